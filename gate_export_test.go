package ets

// PublishDroppedKeepingData marks t dropped without emptying its storage:
// the state of a table between Drop's two steps (publish, then Purge).
func PublishDroppedKeepingData(t Table) {
	c := t.tableCore()
	c.mu.Lock()
	defer c.mu.Unlock()
	next := *c.st.Load()
	next.dropped = true
	c.publish(&next)
}

// SetPublishHook makes every change of a table's state call f between
// setting the engine's gates and storing the state (nil: no hook).
func SetPublishHook(f func()) {
	if f == nil {
		testHookInPublish.Store(nil)
		return
	}
	testHookInPublish.Store(&f)
}

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

package ets

// SetTestHookBeforeAdopt makes every constructor call f between naming its
// table and giving it to its owner; nil removes the hook.
func SetTestHookBeforeAdopt(f func()) { testHookBeforeAdopt = f }

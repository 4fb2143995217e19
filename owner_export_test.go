package ets

// SetTestHookBeforeAdopt makes every constructor call f between making its
// table and giving it to its owner; nil removes the hook.
func SetTestHookBeforeAdopt(f func()) { testHookBeforeAdopt = f }

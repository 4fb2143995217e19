#!/usr/bin/env escript
%% -*- erlang -*-
%%! +S 2:2 +sbwt none +sbwtdcpu none +sbwtdio none
%%
%% ETS itself on this machine: the operations issue 8 compares ets with, at
%% 1e6 integer keys, from 2 processes on 2 schedulers. Prints one line per
%% operation: "name ns_per_op per_process_ns", where ns_per_op is wall time
%% over the operations of both processes together (what Go's b.RunParallel
%% reports at -cpu 2) and per_process_ns is wall time over one process's
%% operations (the latency one process sees).
%%
%% Usage: escript ets_bench.escript [Keys [OpsPerProcess [Sample]]]
%%   defaults 1000000 keys, 1000000 operations per process (walks: 1/100th),
%%   samples of 1048576 keys (a power of two).
%%
%% Tables are public with {read_concurrency, true} and
%% {write_concurrency, true}, ETS's options for concurrent access. Each
%% process reads its keys in order from its own tuple of Sample keys drawn
%% at random from the table's beforehand, so no random-number call is in the
%% timed loop; with the default sample, larger than the operations, every
%% operation has a fresh key. (Until the twentieth session the sample was
%% 65536 keys, which kept the paths to at most 131072 of the 1e6 keys in the
%% cache.) The Go side, bench's BenchmarkErlang, does the same, except that
%% its goroutines make as many operations as -benchtime asks, and come back
%% to the start of their samples after 2^20.

-mode(compile).

main(Args) ->
    {N, Ops, Sample} = case Args of
                           [] -> {1000000, 1000000, 1048576};
                           [A] -> {list_to_integer(A), 1000000, 1048576};
                           [A, B] -> {list_to_integer(A), list_to_integer(B), 1048576};
                           [A, B, C | _] -> {list_to_integer(A), list_to_integer(B), list_to_integer(C)}
                       end,
    case Sample > 0 andalso Sample band (Sample - 1) =:= 0 of
        true -> ok;
        false -> io:format(standard_error, "sample ~p: want a power of two~n", [Sample]), halt(2)
    end,
    Procs = 2,
    io:format("# OTP ~s, ~p schedulers online, ~p keys, ~p processes, ~p ops each, samples of ~p keys~n",
              [erlang:system_info(otp_release), erlang:system_info(schedulers_online),
               N, Procs, Ops, Sample]),
    Keys = keys(N),
    Opts = [public, {read_concurrency, true}, {write_concurrency, true}],
    Set = ets:new(set, [set | Opts]),
    Ord = ets:new(ordered_set, [ordered_set | Opts]),
    [begin ets:insert(Set, {K, K}), ets:insert(Ord, {K, K}) end || K <- Keys],
    KeyT = list_to_tuple(Keys),
    report(set_lookup, Procs, Ops, run(Procs, Ops, Sample, KeyT, fun(K) -> ets:lookup(Set, K) end)),
    report(set_insert, Procs, Ops, run(Procs, Ops, Sample, KeyT, fun(K) -> ets:insert(Set, {K, 1}) end)),
    report(ordered_set_lookup, Procs, Ops, run(Procs, Ops, Sample, KeyT, fun(K) -> ets:lookup(Ord, K) end)),
    WalkOps = max(1, Ops div 100),
    report(ordered_set_walk100, Procs, WalkOps, run(Procs, WalkOps, Sample, KeyT, fun(K) -> walk(Ord, K, 100) end)),
    report(empty_loop, Procs, Ops, run(Procs, Ops, Sample, KeyT, fun(K) -> K end)),
    ok.

%% N distinct integers below 2^58 (small integers, no bignums), in a
%% scrambled order: multiplying by an odd constant is a bijection mod 2^58.
keys(N) ->
    Mask = (1 bsl 58) - 1,
    [(I * 11400714819323198485) band Mask || I <- lists:seq(1, N)].

walk(_T, _K, 0) -> ok;
walk(T, K, I) ->
    case ets:next(T, K) of
        '$end_of_table' -> ok;
        K2 -> walk(T, K2, I - 1)
    end.

%% run spawns Procs processes that each apply F to Ops random keys, read in
%% order from a tuple of Sample keys drawn beforehand, and
%% returns the wall time and the runtime's CPU time, in nanoseconds, from the
%% start signal to the last process done.
run(Procs, Ops, Sample, KeyT, F) ->
    Parent = self(),
    Size = tuple_size(KeyT),
    Pids = [spawn_link(fun() ->
                               rand:seed(exsss, {P, 17, 42}),
                               Samples = list_to_tuple([element(rand:uniform(Size), KeyT)
                                                       || _ <- lists:seq(1, Sample)]),
                               Parent ! {ready, self()},
                               receive go -> ok end,
                               loop(F, Samples, Sample - 1, Ops),
                               Parent ! {done, self()}
                       end) || P <- lists:seq(1, Procs)],
    [receive {ready, P} -> ok end || P <- Pids],
    {C0, _} = statistics(runtime),
    T0 = erlang:monotonic_time(nanosecond),
    [P ! go || P <- Pids],
    [receive {done, P} -> ok end || P <- Pids],
    T1 = erlang:monotonic_time(nanosecond),
    {C1, _} = statistics(runtime),
    {T1 - T0, (C1 - C0) * 1000000}.

loop(_F, _S, _Mask, 0) -> ok;
loop(F, S, Mask, I) ->
    F(element((I band Mask) + 1, S)),
    loop(F, S, Mask, I - 1).

report(Name, Procs, Ops, {Ns, CpuNs}) ->
    io:format("~s ~.1f ~.1f ~.1f~n", [Name, Ns / (Procs * Ops), Ns / Ops, CpuNs / (Procs * Ops)]).

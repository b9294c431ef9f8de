// The guide's lessons, one per section of "Spawning lightweight asynchronous tasks" and
// "spawn vs spawn_blocking". Each builds the runtime it needs, prints its evidence, and returns
// the process's exit code.
#pragma once

namespace guide {

int tasks_are_green_threads();
int spawn_vs_join();
int dropping_a_handle();
int ownership();
int never_block();
int graceful_shutdown();
int two_pools();
int configure_pool();
int cpu_work();
int async_vs_sync_io();
int errors();
int thread_affinity();
int spawn_cost();
int sizing_the_pool();
int common_mistakes();
int blocking_library();
int mixing_both();
int comparison();

}  // namespace guide

// The atomics, locks and condition variables the runtime's concurrent protocols are written with.
//
// Normally these are the standard types themselves, at no cost. The model checker in tests/model
// compiles the protocol sources with BRIGADE_MODEL_CHECK defined, which swaps in its own types:
// every operation on them is a point where the checker may switch threads, so a test can run a
// protocol under every interleaving of a few threads (see "How the runtime is verified" in
// runtime/README.md). Only the protocols' shared state uses these names (and the blocking pool
// its threads, which the checker must create as its own).
#pragma once

#ifdef BRIGADE_MODEL_CHECK
#include "brigade_model/primitives.hpp"
#else
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#endif

namespace brigade::runtime::detail::sync {

#ifdef BRIGADE_MODEL_CHECK
template <class T>
using Atomic = ::brigade::model::Atomic<T>;
using Mutex = ::brigade::model::Mutex;
using CondVar = ::brigade::model::CondVar;
using Thread = ::brigade::model::Thread;
inline ::brigade::model::ThreadId this_thread_id() { return ::brigade::model::this_thread_id(); }
#else
template <class T>
using Atomic = std::atomic<T>;
using Mutex = std::mutex;
using CondVar = std::condition_variable;
using Thread = std::thread;
inline std::thread::id this_thread_id() noexcept { return std::this_thread::get_id(); }
#endif

}  // namespace brigade::runtime::detail::sync

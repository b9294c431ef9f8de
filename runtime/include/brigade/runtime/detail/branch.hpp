#pragma once

#include <concepts>
#include <coroutine>
#include <cstddef>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

#include "brigade/runtime/detail/frame_allocator.hpp"
#include "brigade/runtime/detail/task_header.hpp"

// The machinery shared by join(), join_all() and select(): each operand runs in a branch, a small
// coroutine of its own that awaits the operand and keeps its result, all inside the task that
// awaits the combinator.
//
// How a combinator runs (the parent is the coroutine that awaits it):
//  1. Start: the combinator's await_suspend resumes the branches one after another. Each runs
//     until its first real suspension, where a leaf awaiter registers a Waiter of the *current*
//     task whose handle is the branch (or a coroutine the branch awaits), then returns here.
//  2. Wait: the task's run loop resumes whichever branch was woken, on whichever worker runs the
//     task; a branch never runs while another branch or the parent runs, since a task runs on one
//     thread at a time. A branch that finishes without completing the combinator suspends at its
//     final point and hands control back to the run loop.
//  3. Completion: the branch that completes the combinator (select: the first to finish; join: the
//     last) transfers control from its final suspend point straight to the parent.
// A branch that finishes during the start phase must not resume the parent (the parent is still
// inside its own await_suspend): BranchGroup remembers it, and await_suspend then returns false
// (the parent continues at once) or true (it stays suspended).
//
// Cancelling a branch is destroying its suspended frame: the destructors of the awaiters on its
// await chain deregister their Waiters (TaskHeader::forget), exactly as when a whole task is
// aborted. The combinator's awaiter owns the branch frames, so destroying the parent's frame (its
// task was aborted) cancels every branch with it.
namespace brigade::runtime::detail {

// --- What `co_await x` means for an operand type -------------------------------------------------

template <class A>
concept HasMemberCoAwait = requires(A&& a) {
  static_cast<A&&>(a).operator co_await();
};

template <class A>
concept HasFreeCoAwait = requires(A&& a) {
  operator co_await(static_cast<A&&>(a));
};

template <class A>
concept HasOnlyFreeCoAwait = !HasMemberCoAwait<A> && HasFreeCoAwait<A>;

// The type of the awaiter `co_await std::declval<A>()` would use (as a non-reference type).
template <class A>
struct AwaiterOf {
  using type = std::remove_reference_t<A>;
};
template <HasMemberCoAwait A>
struct AwaiterOf<A> {
  using type = std::remove_reference_t<decltype(std::declval<A>().operator co_await())>;
};
template <HasOnlyFreeCoAwait A>
struct AwaiterOf<A> {
  using type = std::remove_reference_t<decltype(operator co_await(std::declval<A>()))>;
};

template <class W>
concept Awaiter = requires(W& w) {
  { w.await_ready() } -> std::convertible_to<bool>;
  w.await_resume();
};

// Something that can be awaited as an expression of type A (an rvalue for a non-reference A).
template <class A>
concept Awaitable = Awaiter<typename AwaiterOf<A>::type>;

template <class A>
using AwaitResult = decltype(std::declval<typename AwaiterOf<A>::type&>().await_resume());

// What a branch stores for an operand: a void result becomes std::monostate, a reference result is
// stored as a value.
template <class A>
using BranchValue = std::conditional_t<std::is_void_v<AwaitResult<A>>, std::monostate,
                                       std::remove_cvref_t<AwaitResult<A>>>;

// An operand of join/select, as deduced from a forwarding reference (a value type for an rvalue,
// an lvalue reference otherwise). An rvalue is moved into its branch's frame. An lvalue is
// borrowed (it must outlive the awaiting, which it does when the combinator is awaited at once),
// but only if it makes a fresh awaiter through operator co_await (a JoinHandle, a channel
// receiver): that awaiter then lives in the branch frame and is destroyed, so deregistered, with
// it. An lvalue that is itself an awaiter (a Sleep) is refused: it would outlive its cancelled
// branch still registered, and its wake-up would resume a destroyed frame.
template <class Op>
concept Operand = Awaitable<Op&&> &&
    (!std::is_lvalue_reference_v<Op> || HasMemberCoAwait<Op> || HasFreeCoAwait<Op>);

// --- Shared bookkeeping ------------------------------------------------------------------------

// The state one combinator shares with its branches. Lives in the combinator's awaiter, so in the
// parent's frame; branches reach it through their promise. Touched only by the task that owns the
// parent, so it needs no synchronisation.
class BranchGroup {
 public:
  enum class Policy {
    all,    // join: done when every branch finished
    first,  // select: done when one branch finished
  };
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

  explicit BranchGroup(Policy policy) noexcept : policy_(policy) {}
  BranchGroup(const BranchGroup&) = delete;
  BranchGroup& operator=(const BranchGroup&) = delete;
  ~BranchGroup() { end_wait(); }

  // Start phase: from the combinator's await_suspend, before the first branch is resumed. The
  // task's wait record says "select of N" (or "join_all of N") from here until the combinator is
  // decided, rather than whichever operand suspended last; before the branches start, so that
  // a combinator nested in an operand leaves the outer one's record alone.
  void begin_start(std::coroutine_handle<> parent, std::size_t branches) noexcept {
    parent_ = parent;
    unfinished_ = branches;
    starting_ = true;
    TaskHeader& task = expect_current_task();
    if (task.begin_combined_wait(
            policy_ == Policy::first ? WaitReason::select : WaitReason::join_all, branches)) {
      recorded_on_ = &task;
    }
  }
  // The combinator is decided (select: a branch finished; join: all did).
  bool done() const noexcept {
    return policy_ == Policy::first ? winner_ != npos : unfinished_ == 0;
  }
  // End of the start phase: what await_suspend returns. False (the parent goes on at once) if a
  // branch already decided the combinator; true (it stays suspended until the deciding branch
  // transfers to it) otherwise. The bool form, rather than returning the parent's handle: GCC
  // does not turn a returned handle into a tail call at -O0, so a loop of combinators decided
  // while starting would nest one resume() per iteration and overflow the stack.
  bool end_start() noexcept {
    starting_ = false;
    if (done()) end_wait();
    return !done();
  }

  // From a branch's final suspend point: where control goes next. The branch that decides the
  // combinator after the start phase transfers to the parent; any other returns to the run loop.
  std::coroutine_handle<> branch_finished(std::size_t index, bool failed) noexcept {
    --unfinished_;
    if (failed && first_failure_ == npos) first_failure_ = index;
    bool decides = false;
    if (policy_ == Policy::first) {
      // After a winner the parent runs at once and destroys the others, so none can finish later;
      // the check only keeps a second finisher from resuming the parent twice.
      decides = winner_ == npos;
      if (decides) winner_ = index;
    } else {
      decides = unfinished_ == 0;
    }
    if (decides) end_wait();
    if (decides && !starting_) return parent_;
    return std::noop_coroutine();
  }

  // select: the branch that finished first.
  std::size_t winner() const noexcept { return winner_; }
  // join: the branch whose exception is rethrown (the first to finish by throwing).
  std::size_t first_failure() const noexcept { return first_failure_; }

 private:
  void end_wait() noexcept {
    if (recorded_on_ != nullptr) std::exchange(recorded_on_, nullptr)->end_combined_wait();
  }

  Policy policy_;
  TaskHeader* recorded_on_ = nullptr;  // the task whose wait record this combinator holds
  std::coroutine_handle<> parent_;
  std::size_t unfinished_ = 0;
  std::size_t winner_ = npos;
  std::size_t first_failure_ = npos;
  bool starting_ = false;
};

// --- The branch coroutine ----------------------------------------------------------------------

template <class R>
class Branch;

// Final suspend of a branch: asks the group where to go.
struct BranchFinalAwaiter {
  bool await_ready() const noexcept { return false; }
  template <class Promise>
  std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> self) const noexcept {
    Promise& promise = self.promise();
    return promise.group->branch_finished(promise.index, promise.exception != nullptr);
  }
  void await_resume() const noexcept {}
};

template <class R>
class BranchPromise {
 public:
  // Branch frames come and go as often as task frames: same recycling allocator.
  static void* operator new(std::size_t size) { return allocate_frame(size); }
  static void operator delete(void* frame, std::size_t size) noexcept {
    deallocate_frame(frame, size);
  }

  Branch<R> get_return_object() noexcept;
  // Lazy: the combinator starts the branch from its await_suspend, once the group's address
  // (inside the awaiting frame) is known.
  std::suspend_always initial_suspend() const noexcept { return {}; }
  BranchFinalAwaiter final_suspend() const noexcept { return {}; }

  template <class U>
  void return_value(U&& value) {
    value_.emplace(std::forward<U>(value));
  }
  void unhandled_exception() noexcept { exception = std::current_exception(); }

  BranchGroup* group = nullptr;
  std::size_t index = 0;
  std::exception_ptr exception;

 private:
  friend class Branch<R>;
  std::optional<R> value_;
};

// Owns one branch's coroutine frame; destroying it (finished or not) frees the frame, which
// cancels the operand if it was still pending. R is never void (see BranchValue).
template <class R>
class [[nodiscard]] Branch {
 public:
  using promise_type = BranchPromise<R>;

  Branch() noexcept = default;
  Branch(Branch&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
  Branch& operator=(Branch&& other) noexcept {
    if (this != &other) {
      reset();
      handle_ = std::exchange(other.handle_, {});
    }
    return *this;
  }
  ~Branch() { reset(); }

  // Runs the branch until its first suspension (or to its end, which then reports to `group`).
  void start(BranchGroup& group, std::size_t index) noexcept {
    promise_type& promise = handle_.promise();
    promise.group = &group;
    promise.index = index;
    handle_.resume();
  }

  // Once the branch finished: its exception, if the operand threw.
  void rethrow_if_failed() const {
    if (handle_.promise().exception) std::rethrow_exception(handle_.promise().exception);
  }
  // Once the branch finished: its value, or rethrows its exception.
  R take() {
    rethrow_if_failed();
    return std::move(*handle_.promise().value_);
  }

  // Destroys the frame now. A branch suspended on an operand is cancelled by this.
  void reset() noexcept {
    if (handle_) std::exchange(handle_, {}).destroy();
  }

 private:
  friend promise_type;
  explicit Branch(std::coroutine_handle<promise_type> handle) noexcept : handle_(handle) {}

  std::coroutine_handle<promise_type> handle_;
};

template <class R>
Branch<R> BranchPromise<R>::get_return_object() noexcept {
  return Branch<R>(std::coroutine_handle<BranchPromise>::from_promise(*this));
}

// The branch coroutine of one operand. `Op` is a value type (the operand was an rvalue: it now
// lives in this frame) or an lvalue reference (borrowed).
template <class Op>
Branch<BranchValue<Op&&>> make_branch(Op operand) {
  if constexpr (std::is_void_v<AwaitResult<Op&&>>) {
    co_await static_cast<Op&&>(operand);
    co_return std::monostate{};
  } else {
    co_return co_await static_cast<Op&&>(operand);
  }
}

}  // namespace brigade::runtime::detail

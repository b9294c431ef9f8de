// What an idle connection and a sleeping task are made of, in bytes. These sizes are what
// memory_bench measures per connection and per task (against Tokio's figures in runtime/README),
// so a field added to any of them should be a decision, not an accident.
#include <gtest/gtest.h>

#include <cstddef>
#include <type_traits>

#include "brigade/runtime/detail/io_registration.hpp"
#include "brigade/runtime/detail/task_cell.hpp"
#include "brigade/runtime/detail/wait_list.hpp"
#include "brigade/runtime/net/tcp.hpp"

namespace rt = brigade::runtime;
namespace detail = brigade::runtime::detail;
namespace net = brigade::runtime::net;

namespace {

// malloc (glibc) hands out chunks of 16k bytes holding 16k - 8: a block of 121 to 136 bytes costs
// 144. The cell was 104 bytes (a 112-byte chunk) until the stall detector's annotation (112, a
// 128-byte chunk), then 136 with the task dump's 16 bytes (spawn time, poll count, the wait's
// detail; the wait's reason and the running worker sit in the header's padding) and the
// scheduling-latency wake stamp's 8. The 144-byte chunk is full: the next byte costs 160.
TEST(Footprint, TaskCellOfAVoidTaskFitsA144ByteChunk) {
  EXPECT_LE(sizeof(detail::TaskCell<void>), 136u);
}

TEST(Footprint, TaskCellStoresAValueWithoutADiscriminantOfItsOwn) {
  EXPECT_EQ(sizeof(detail::TaskCell<long>), sizeof(detail::TaskCell<void>));
}

// spawn(fn, args...) with a plain function or a captureless lambda keeps nothing of it in the cell.
TEST(Footprint, SpawnedCellOfAFunctionOrCapturelessLambdaIsATaskCell) {
  const auto lambda = [] {};
  using Lambda = std::remove_const_t<decltype(lambda)>;
  EXPECT_EQ(sizeof(detail::SpawnedCell<void, detail::NoCallable>), sizeof(detail::TaskCell<void>));
  EXPECT_EQ(sizeof(detail::SpawnedCell<void, detail::KeptCallableFor<Lambda>>),
            sizeof(detail::TaskCell<void>));
}

// A connection task keeps its stream in its frame for as long as the connection lives.
TEST(Footprint, StreamIsOnePointer) { EXPECT_EQ(sizeof(net::TcpStream), sizeof(void*)); }

// Registrations come from the driver's slab, 40 bytes each.
TEST(Footprint, RegistrationIsFortyBytes) { EXPECT_LE(sizeof(detail::IoRegistration), 40u); }

// A frame keeps a slot for the result of each socket operation it awaits.
TEST(Footprint, SocketResultsAreSmallerThanWithStdErrorCode) {
  EXPECT_EQ(sizeof(net::IoResult<std::size_t>), 16u);
  EXPECT_EQ(sizeof(net::IoResult<void>), 8u);
}

// A task waiting on a socket holds the operation's awaiter in its frame. The two links that let
// any number of operations wait on one descriptor cost 16 bytes each.
TEST(Footprint, SocketAwaitersStaySmall) {
  EXPECT_LE(sizeof(net::TcpStream::Readable), 64u);
  EXPECT_LE(sizeof(net::TcpStream::Read), 80u);
  EXPECT_LE(sizeof(net::TcpStream::Write), 80u);
}

// A resource's list of waiters is one pointer: a registration holds two, in the 40 bytes.
TEST(Footprint, WaitListIsOnePointer) { EXPECT_EQ(sizeof(detail::WaitList), sizeof(void*)); }

}  // namespace

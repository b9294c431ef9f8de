// End-to-end tests of the offloading endpoints (/hash, /files/{name}/sha256, /cpu, /fanout,
// /block) and /debug/runtime: the real `brigade` binary as a child process, driven over loopback
// by Boost.Beast. Digests are checked against OpenSSL's one-shot SHA256(), an implementation the
// server's streaming EVP code does not share; JSON is parsed with Boost.JSON.
#include <gtest/gtest.h>
#include <openssl/sha.h>
#include <sys/stat.h>

#include <array>
#include <boost/json.hpp>
#include <boost/json/src.hpp>  // header-only Boost.JSON: this is its one translation unit
#include <chrono>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "child_process.hpp"
#include "http_client.hpp"
#include "running_brigade.hpp"

namespace brigade::testing {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
namespace json = boost::json;

constexpr const char* kBinary = BRIGADE_BIN;
constexpr auto kStartTimeout = kBrigadeStartTimeout;

using Server = RunningBrigade;

std::string header(const Response& response, http::field field) {
  return std::string(response[field]);
}

std::string hex(const unsigned char* digest) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < SHA256_DIGEST_LENGTH; ++i) {
    out += kDigits[digest[i] >> 4];
    out += kDigits[digest[i] & 0x0f];
  }
  return out;
}

// The reference digest, from OpenSSL's one-shot SHA256().
std::string expected_sha256(std::string_view data) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest.data());
  return hex(digest.data());
}

// Bytes that no compression or pattern could fake, the same on every run.
std::string random_bytes(std::size_t size, std::uint32_t seed) {
  std::mt19937 generator(seed);
  std::string bytes(size, '\0');
  for (char& c : bytes) c = static_cast<char>(generator() & 0xff);
  return bytes;
}

json::object parse_object(const Response& response) {
  EXPECT_EQ(header(response, http::field::content_type), "application/json");
  return json::parse(response.body()).as_object();
}

// A 4xx answer with the short JSON error body every error carries.
void expect_json_error(const Response& response, int status) {
  EXPECT_EQ(response.result_int(), status) << response.body();
  EXPECT_EQ(header(response, http::field::content_type), "application/json");
  const json::object body = json::parse(response.body()).as_object();
  EXPECT_TRUE(body.contains("error")) << response.body();
}

std::int64_t blocking_spawned(Server& server) {
  const json::object snapshot = parse_object(server.get("/debug/runtime"));
  return snapshot.at("blocking").as_object().at("spawned").to_number<std::int64_t>();
}

// A directory of its own under the system's temporary directory, removed with what it holds.
class TempDir {
 public:
  TempDir() {
    std::string path = (fs::temp_directory_path() / "brigade-endpoints-XXXXXX").string();
    if (::mkdtemp(path.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = path;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  const fs::path& path() const noexcept { return path_; }

 private:
  fs::path path_;
};

void write_file(const fs::path& path, std::string_view content) {
  std::ofstream out(path, std::ios::binary);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  ASSERT_TRUE(out.good()) << path;
}

// --- POST /hash ---------------------------------------------------------------------------------

TEST(HashEndpoint, KnownVectors) {
  Server server;
  Response response = server.post("/hash", "");
  ASSERT_EQ(response.result_int(), 200);
  EXPECT_EQ(response.body(),
            R"({"sha256":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",)"
            R"("bytes":0})");
  response = server.post("/hash", "abc");
  EXPECT_EQ(response.body(),
            R"({"sha256":"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",)"
            R"("bytes":3})");
  expect_json_error(server.get("/hash"), 405);
}

TEST(HashEndpoint, SmallBodiesInlineLargeOnesOnTheBlockingPool) {
  Server server({"--hash-offload-threshold", "1KiB"});
  Client client(server.port());
  const auto check = [&client](const std::string& body) {
    SCOPED_TRACE(body.size());
    const Response response = client.request(http::verb::post, "/hash", body);
    ASSERT_EQ(response.result_int(), 200) << response.body();
    const json::object answer = parse_object(response);
    EXPECT_EQ(answer.at("sha256").as_string(), expected_sha256(body));
    EXPECT_EQ(answer.at("bytes").to_number<std::size_t>(), body.size());
  };

  const std::int64_t before = blocking_spawned(server);
  for (const std::size_t size : {std::size_t{1}, std::size_t{1000}, std::size_t{1024}}) {
    check(random_bytes(size, 1));
  }
  EXPECT_EQ(blocking_spawned(server), before) << "bodies up to the threshold are hashed inline";

  for (const std::size_t size : {std::size_t{1025}, std::size_t{3 << 20}}) {
    check(random_bytes(size, 2));
  }
  EXPECT_EQ(blocking_spawned(server), before + 2) << "larger bodies go to the blocking pool";
}

// --- GET /files/{name}/sha256 -------------------------------------------------------------------

// data/ is the server's data_dir; secret.txt lies beside it, outside.
class FilesEndpoint : public ::testing::Test {
 protected:
  FilesEndpoint() {
    fs::create_directory(data_dir());
    fs::create_directory(data_dir() / "subdir");
    write_file(data_dir() / "big.bin", big_);
    write_file(data_dir() / "empty", "");
    write_file(data_dir() / "name with spaces.txt", "spaced");
    write_file(root_.path() / "secret.txt", kSecret);
    fs::create_symlink(root_.path() / "secret.txt", data_dir() / "outside-link");
    fs::create_symlink("../secret.txt", data_dir() / "relative-outside-link");
    fs::create_symlink("big.bin", data_dir() / "inside-link");
    if (::mkfifo((data_dir() / "fifo").c_str(), 0600) != 0) throw std::runtime_error("mkfifo");
    server_ = std::make_unique<Server>(std::vector<std::string>{"--data-dir", data_dir().string()});
  }

  fs::path data_dir() const { return root_.path() / "data"; }
  Server& server() { return *server_; }

  static constexpr std::string_view kSecret = "the secret outside data_dir";
  TempDir root_;
  // Several MiB and not a multiple of the 64 KiB read chunk.
  const std::string big_ = random_bytes((5 << 20) + 12345, 3);
  std::unique_ptr<Server> server_;
};

TEST_F(FilesEndpoint, HashesARegularFile) {
  const Response response = server().get("/files/big.bin/sha256");
  ASSERT_EQ(response.result_int(), 200) << response.body();
  const json::object answer = parse_object(response);
  EXPECT_EQ(answer.at("name").as_string(), "big.bin");
  EXPECT_EQ(answer.at("sha256").as_string(), expected_sha256(big_));
  EXPECT_EQ(answer.at("bytes").to_number<std::size_t>(), big_.size());

  const json::object empty = parse_object(server().get("/files/empty/sha256"));
  EXPECT_EQ(empty.at("sha256").as_string(), expected_sha256(""));
  EXPECT_EQ(empty.at("bytes").to_number<std::size_t>(), 0u);

  // The router decodes the name: an encoded space is an ordinary character.
  const json::object spaced = parse_object(server().get("/files/name%20with%20spaces.txt/sha256"));
  EXPECT_EQ(spaced.at("sha256").as_string(), expected_sha256("spaced"));
}

TEST_F(FilesEndpoint, MissingFileIs404) {
  expect_json_error(server().get("/files/no-such-file/sha256"), 404);
}

TEST_F(FilesEndpoint, DirectoriesAndSpecialFilesAreRefused) {
  expect_json_error(server().get("/files/subdir/sha256"), 404);
  // A FIFO is refused at once: opening it must not wait for a writer.
  expect_json_error(server().get("/files/fifo/sha256"), 404);
}

// Symbolic links are never followed, wherever they point: checking the target and then opening
// it would leave a window to swap the link.
TEST_F(FilesEndpoint, SymbolicLinksAreRefused) {
  for (const char* target : {"/files/outside-link/sha256", "/files/relative-outside-link/sha256",
                             "/files/inside-link/sha256"}) {
    SCOPED_TRACE(target);
    const Response response = server().get(target);
    expect_json_error(response, 404);
    EXPECT_EQ(response.body().find(expected_sha256(kSecret)), std::string::npos);
  }
}

TEST_F(FilesEndpoint, EveryPathEscapeIsRefused) {
  // Names that the router hands over but that are not one plain path component: 400.
  for (const char* target : {
           "/files/../sha256",
           "/files/./sha256",
           "/files/%2e%2e/sha256",
           "/files/%2E%2E/sha256",
           "/files/.%2e/sha256",
           "/files/%2e/sha256",
           "/files/..%2Fsecret.txt/sha256",
           "/files/..%2fsecret.txt/sha256",
           "/files/%2E%2E%2Fsecret.txt/sha256",
           "/files/%2Fetc%2Fpasswd/sha256",
           "/files/%2fetc%2fpasswd/sha256",
           "/files/subdir%2F..%2F..%2Fsecret.txt/sha256",
           "/files/big.bin%00/sha256",
           "/files/%00/sha256",
           "/files/secret.txt%00big.bin/sha256",
       }) {
    SCOPED_TRACE(target);
    const Response response = server().get(target);
    expect_json_error(response, 400);
    EXPECT_EQ(response.body().find(expected_sha256(kSecret)), std::string::npos);
  }
  // Paths that match no route at all (an absolute path or extra segments): 404.
  for (const char* target : {"/files//etc/passwd/sha256", "/files/../secret.txt/sha256",
                             "/files/subdir/../../secret.txt/sha256", "/files//sha256"}) {
    SCOPED_TRACE(target);
    expect_json_error(server().get(target), 404);
  }
  // A name longer than a file name can be.
  expect_json_error(server().get("/files/" + std::string(300, 'a') + "/sha256"), 400);
}

// --- GET /cpu?work=N ----------------------------------------------------------------------------

// The work the endpoint promises: `rounds` SHA-256 rounds, each over a 1 KiB block that starts
// as zeros and gets the previous digest written over its first 32 bytes.
std::string expected_cpu_digest(int rounds) {
  std::array<unsigned char, 1024> block{};
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
  for (int i = 0; i < rounds; ++i) {
    SHA256(block.data(), block.size(), digest.data());
    std::copy(digest.begin(), digest.end(), block.begin());
  }
  return hex(digest.data());
}

TEST(CpuEndpoint, AnswersTheChainedDigest) {
  Server server;
  Client client(server.port());
  for (const int work : {1, 2, 1000, 100000}) {
    SCOPED_TRACE(work);
    const Response response = client.get("/cpu?work=" + std::to_string(work));
    ASSERT_EQ(response.result_int(), 200) << response.body();
    const json::object answer = parse_object(response);
    EXPECT_EQ(answer.at("work").to_number<int>(), work);
    EXPECT_EQ(answer.at("sha256").as_string(), expected_cpu_digest(work));
  }
}

TEST(CpuEndpoint, RefusesBadWork) {
  Server server;
  Client client(server.port());
  for (const char* target :
       {"/cpu", "/cpu?work=", "/cpu?work=0", "/cpu?work=-1", "/cpu?work=100001", "/cpu?work=abc",
        "/cpu?work=1e3", "/cpu?work=+5", "/cpu?work=99999999999999999999999", "/cpu?work=5%20"}) {
    SCOPED_TRACE(target);
    expect_json_error(client.get(target), 400);
  }
}

// --- GET /fanout?n=&ms= -------------------------------------------------------------------------

TEST(FanoutEndpoint, ChildrenSleepConcurrently) {
  Server server;
  constexpr int kTasks = 50;
  constexpr int kMs = 200;
  const auto start = std::chrono::steady_clock::now();
  const Response response =
      server.get("/fanout?n=" + std::to_string(kTasks) + "&ms=" + std::to_string(kMs));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(response.result_int(), 200) << response.body();
  const json::object answer = parse_object(response);
  EXPECT_EQ(answer.at("tasks").to_number<int>(), kTasks);
  EXPECT_EQ(answer.at("joined").to_number<int>(), kTasks);
  EXPECT_EQ(answer.at("ms").to_number<int>(), kMs);
  // Every child slept its ms; the shape is M, not N x M (a quarter of N x M leaves room for a
  // slow machine while still failing a sequential implementation).
  EXPECT_GE(elapsed, std::chrono::milliseconds(kMs));
  EXPECT_LT(elapsed, std::chrono::milliseconds(kTasks * kMs / 4));
  EXPECT_GE(answer.at("elapsed_ms").to_number<int>(), kMs);
}

TEST(FanoutEndpoint, BoundsAndBadParameters) {
  Server server;
  Client client(server.port());
  const json::object none = parse_object(client.get("/fanout?n=0&ms=0"));
  EXPECT_EQ(none.at("joined").to_number<int>(), 0);
  const json::object most = parse_object(client.get("/fanout?n=1000&ms=1"));
  EXPECT_EQ(most.at("joined").to_number<int>(), 1000);

  for (const char* target :
       {"/fanout", "/fanout?n=10", "/fanout?ms=10", "/fanout?n=1001&ms=1", "/fanout?n=-1&ms=1",
        "/fanout?n=1&ms=10001", "/fanout?n=1&ms=-5", "/fanout?n=x&ms=1", "/fanout?n=1&ms=1.5"}) {
    SCOPED_TRACE(target);
    expect_json_error(client.get(target), 400);
  }
}

// A fan-out still waiting at the shutdown's grace deadline is aborted with its children: the
// process exits 0 without waiting for them to wake.
TEST(FanoutEndpoint, ShutdownAbortsAnUnfinishedFanout) {
  ChildProcess server(kBinary,
                      std::vector<std::string>{"--listen", "127.0.0.1:0", "--worker-threads", "2",
                                               "--grace-period", "200ms"});
  const auto line = server.wait_for_stderr_line("brigade started", kStartTimeout);
  ASSERT_TRUE(line) << server.stderr_text();
  const std::uint16_t port = port_of(*line);

  auto pending = std::async(std::launch::async, [port]() -> unsigned {
    try {
      return Client(port).get("/fanout?n=100&ms=10000").result_int();
    } catch (const boost::system::system_error&) {
      return 0u;  // the connection was closed without an answer
    }
  });
  // Wait until the children are alive (the asking connection and the listener are more tasks).
  int alive = 0;
  for (int attempt = 0; attempt < 100 && alive < 100; ++attempt) {
    std::this_thread::sleep_for(20ms);
    const json::object snapshot = parse_object(Client(port).get("/debug/runtime"));
    alive = snapshot.at("tasks").as_object().at("alive").to_number<int>();
  }
  ASSERT_GE(alive, 100);

  server.signal(SIGTERM);
  // Far less than the children's 10 s sleep: they were not waited for.
  EXPECT_EQ(server.wait_exit_code(5s), 0) << server.stderr_text();
  EXPECT_NE(pending.get(), 200u);
}

// --- GET /block?ms= -----------------------------------------------------------------------------

TEST(BlockEndpoint, AbsentUnlessEnabled) {
  Server server;
  expect_json_error(server.get("/block?ms=1"), 404);
}

TEST(BlockEndpoint, BlocksWhenEnabled) {
  Server server({"--enable-block-endpoint"});
  Client client(server.port());
  const auto start = std::chrono::steady_clock::now();
  const Response response = client.get("/block?ms=50");
  EXPECT_GE(std::chrono::steady_clock::now() - start, 50ms);
  ASSERT_EQ(response.result_int(), 200);
  EXPECT_EQ(response.body(), R"({"blocked_ms":50})");
  for (const char* target : {"/block", "/block?ms=-1", "/block?ms=10001", "/block?ms=abc"}) {
    SCOPED_TRACE(target);
    expect_json_error(client.get(target), 400);
  }
}

// --- The blocking queue's limit -----------------------------------------------------------------

// One blocking thread and one queued job at most: of a burst of slow offloaded requests some are
// turned away with 503 + Retry-After, and every request gets an answer.
TEST(BlockingQueueLimit, FullQueueAnswers503WithRetryAfter) {
  TempDir root;
  const std::string big = random_bytes(8 << 20, 4);
  write_file(root.path() / "big.bin", big);
  Server server({"--max-blocking-threads", "1", "--blocking-queue-limit", "1", "--data-dir",
                 root.path().string()});
  const std::string cpu_digest = expected_cpu_digest(100000);
  const std::string file_digest = expected_sha256(big);

  constexpr int kBurst = 8;
  constexpr int kMaxBursts = 5;  // in case a slow start lets one burst through in sequence
  int ok = 0;
  int busy = 0;
  for (int burst = 0; burst < kMaxBursts && busy == 0; ++burst) {
    std::vector<std::future<Response>> answers;
    for (int i = 0; i < kBurst; ++i) {
      const std::string target = i % 2 == 0 ? "/cpu?work=100000" : "/files/big.bin/sha256";
      answers.push_back(std::async(
          std::launch::async, [port = server.port(), target] { return Client(port).get(target); }));
    }
    for (auto& answer : answers) {
      Response response;
      ASSERT_NO_THROW(response = answer.get()) << "a request got no answer";
      if (response.result_int() == 503) {
        ++busy;
        EXPECT_EQ(header(response, http::field::retry_after), "1");
        expect_json_error(response, 503);
        continue;
      }
      ASSERT_EQ(response.result_int(), 200) << response.body();
      ++ok;
      const json::object answer_body = parse_object(response);
      const bool is_cpu = answer_body.contains("work");
      EXPECT_EQ(answer_body.at("sha256").as_string(), is_cpu ? cpu_digest : file_digest);
    }
  }
  EXPECT_GT(busy, 0) << "no request was turned away";
  EXPECT_GT(ok, 0) << "no request was served";

  // The runtime counted the rejections, and the pool serves again once the burst is over.
  const json::object snapshot = parse_object(server.get("/debug/runtime"));
  EXPECT_EQ(snapshot.at("blocking").as_object().at("rejected").to_number<int>(), busy);
  const std::string metrics = server.get("/metrics").body();
  EXPECT_NE(
      metrics.find("\nbrigade_runtime_blocking_rejected_total " + std::to_string(busy) + "\n"),
      std::string::npos)
      << metrics;
  EXPECT_EQ(server.get("/cpu?work=10").result_int(), 200);
}

// --- GET /debug/runtime -------------------------------------------------------------------------

TEST(DebugRuntime, SnapshotIsJson) {
  Server server;
  ASSERT_EQ(server.get("/cpu?work=10").result_int(), 200);  // one job on the blocking pool
  const json::object snapshot = parse_object(server.get("/debug/runtime"));

  EXPECT_EQ(snapshot.at("worker_count").to_number<int>(), 2);
  EXPECT_TRUE(snapshot.at("injection_queue_depth").is_number());
  const json::array& workers = snapshot.at("workers").as_array();
  ASSERT_EQ(workers.size(), 2u);
  std::int64_t polls = 0;
  for (std::size_t i = 0; i < workers.size(); ++i) {
    const json::object& worker = workers[i].as_object();
    EXPECT_EQ(worker.at("index").to_number<std::size_t>(), i);
    for (const char* key : {"local_queue_depth", "polls", "steals", "steal_operations", "overflows",
                            "parks", "busy_ns", "stalls"}) {
      EXPECT_TRUE(worker.at(key).is_number()) << key;
    }
    polls += worker.at("polls").to_number<std::int64_t>();
  }
  EXPECT_GT(polls, 0);

  const json::object& tasks = snapshot.at("tasks").as_object();
  EXPECT_GE(tasks.at("spawned").to_number<int>(), 1);
  EXPECT_GE(tasks.at("alive").to_number<int>(), 1);  // at least the connection asking
  EXPECT_TRUE(tasks.at("budget_forced_yields").is_number());

  const json::object& blocking = snapshot.at("blocking").as_object();
  EXPECT_GE(blocking.at("threads").to_number<int>(), 1);
  EXPECT_GE(blocking.at("spawned").to_number<int>(), 1);
  for (const char* key : {"idle_threads", "queue_depth", "rejected"}) {
    EXPECT_TRUE(blocking.at(key).is_number()) << key;
  }
  const json::object& io = snapshot.at("io").as_object();
  EXPECT_GE(io.at("registered").to_number<int>(), 1);  // the listener at least
  EXPECT_TRUE(io.at("events").is_number());
}

}  // namespace
}  // namespace brigade::testing

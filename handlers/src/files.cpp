// GET /files/{name}/sha256: the SHA-256 of a file in data_dir, read with blocking I/O on the
// blocking pool in fixed chunks, so memory stays constant whatever the file's size.
//
// Only a regular file directly inside data_dir can be reached:
// - the name (already percent-decoded by the router) must be one path component: no '/', no
//   NUL, not "." or "..", at most NAME_MAX bytes (400 otherwise); so "..", "%2e%2e", "%2F" and
//   absolute paths never leave the directory;
// - the file is opened relative to data_dir with O_NOFOLLOW, so a symbolic link is refused
//   wherever it points, inside data_dir or out (404): checking a link's target and then
//   opening it would leave a window for swapping the link in between;
// - directories, FIFOs, devices and sockets are refused (404).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "brigade/runtime/spawn.hpp"
#include "brigade/server/http.hpp"
#include "endpoints.hpp"
#include "offload.hpp"
#include "sha256.hpp"

namespace brigade::handlers::detail {
namespace {

using server::Request;
using server::Response;

// Large enough that a read costs few system calls, small enough to be nothing per request.
constexpr std::size_t kChunkBytes = 64 * 1024;

// What hashing a file came to; `message` says why when it is not ok.
struct FileDigest {
  enum class Status { ok, not_found, forbidden, failed };
  Status status = Status::ok;
  std::string message;
  std::string sha256;
  std::uint64_t bytes = 0;
};

FileDigest refused(FileDigest::Status status, std::string message) {
  FileDigest digest;
  digest.status = status;
  digest.message = std::move(message);
  return digest;
}

FileDigest open_failed(int error) {
  switch (error) {
    case ENOENT:
    case ENOTDIR:
      return refused(FileDigest::Status::not_found, "no such file");
    case ELOOP:  // O_NOFOLLOW met a symbolic link
      return refused(FileDigest::Status::not_found, "symbolic links are not followed");
    case EACCES:
    case EPERM:
      return refused(FileDigest::Status::forbidden, "permission denied");
    default:
      return refused(FileDigest::Status::failed, "cannot open the file");
  }
}

class UniqueFd {
 public:
  explicit UniqueFd(int fd) noexcept : fd_(fd) {}
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const noexcept { return fd_; }
  int release() noexcept { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

struct CloseFile {
  void operator()(std::FILE* file) const noexcept { std::fclose(file); }
};

// Runs on the blocking pool: every call here may block.
FileDigest digest_file(const std::filesystem::path& data_dir, const std::string& name) {
  const UniqueFd dir(::open(data_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() < 0) return open_failed(errno);
  // O_NONBLOCK: opening a FIFO left in data_dir must not hang this thread until a writer comes
  // (a regular file's reads ignore the flag).
  UniqueFd fd(::openat(dir.get(), name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (fd.get() < 0) return open_failed(errno);

  struct stat info {};
  if (::fstat(fd.get(), &info) != 0) return open_failed(errno);
  if (!S_ISREG(info.st_mode)) return refused(FileDigest::Status::not_found, "not a regular file");

  const std::unique_ptr<std::FILE, CloseFile> file(::fdopen(fd.get(), "rb"));
  if (!file) return refused(FileDigest::Status::failed, "cannot read the file");
  fd.release();  // the FILE owns it now

  Sha256 sha;
  std::vector<char> chunk(kChunkBytes);
  FileDigest digest;
  for (;;) {
    const std::size_t got = std::fread(chunk.data(), 1, chunk.size(), file.get());
    sha.update(chunk.data(), got);
    digest.bytes += got;
    if (got < chunk.size()) break;
  }
  if (std::ferror(file.get())) return refused(FileDigest::Status::failed, "cannot read the file");
  digest.sha256 = to_hex(sha.finish());
  return digest;
}

bool is_plain_name(std::string_view name) {
  return !name.empty() && name.size() <= NAME_MAX && name != "." && name != ".." &&
         name.find_first_of(std::string_view("/\0", 2)) == std::string_view::npos;
}

Response answer(const FileDigest& digest, std::string_view name) {
  switch (digest.status) {
    case FileDigest::Status::ok:
      return Response::json(200, R"({"name":")" + server::json_escape(name) + R"(","sha256":")" +
                                     digest.sha256 + R"(","bytes":)" +
                                     std::to_string(digest.bytes) + "}");
    case FileDigest::Status::not_found:
      return Response::error(404, digest.message);
    case FileDigest::Status::forbidden:
      return Response::error(403, digest.message);
    case FileDigest::Status::failed:
      break;
  }
  return Response::error(500, digest.message);
}

runtime::Task<Response> file_sha256(Request& request, std::filesystem::path data_dir) {
  const std::string name(request.path_param("name").value_or(""));
  if (!is_plain_name(name)) {
    co_return Response::error(400, "a file name is one path component: no '/', NUL, '.' or '..'");
  }
  // The job owns copies of what it reads: it may outlive this task when a shutdown aborts it.
  auto job = runtime::spawn_blocking(
      [data_dir = std::move(data_dir), name] { return digest_file(data_dir, name); });
  auto digest = co_await job;
  if (!digest) co_return offload_failed(digest.error());
  co_return answer(*digest, name);
}

}  // namespace

void add_file_routes(server::Router& router, std::filesystem::path data_dir) {
  router.add("GET", "/files/{name}/sha256", [data_dir = std::move(data_dir)](Request& request) {
    return file_sha256(request, data_dir);
  });
}

}  // namespace brigade::handlers::detail

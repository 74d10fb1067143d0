#include "mlsys/core/file_io.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace mlsys {
namespace {

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

Error io_error(std::string what, const std::string& path, int err) {
  return Error(ErrorCode::kIo, std::move(what) + ": " + std::strerror(err), {}, Location{path, 0});
}

}  // namespace

Result<std::string> read_text_file(const std::string& path) {
  errno = 0;
  FilePtr file(std::fopen(path.c_str(), "rb"));
  if (!file) {
    const int err = errno;
    if (err == ENOENT) {
      return not_found("no such file", "check the path", Location{path, 0});
    }
    return io_error("cannot open file", path, err);
  }
  std::string text;
  char buf[1 << 16];
  for (;;) {
    const size_t n = std::fread(buf, 1, sizeof buf, file.get());
    text.append(buf, n);
    if (n < sizeof buf) break;
  }
  if (std::ferror(file.get())) return io_error("cannot read file", path, errno);
  return text;
}

Status write_text_file(const std::string& path, std::string_view content) {
  errno = 0;
  FilePtr file(std::fopen(path.c_str(), "wb"));
  if (!file) return io_error("cannot create file", path, errno);
  if (std::fwrite(content.data(), 1, content.size(), file.get()) != content.size()) {
    return io_error("cannot write file", path, errno);
  }
  if (std::fclose(file.release()) != 0) return io_error("cannot write file", path, errno);
  return ok_status();
}

std::string data_dir() {
  const char* env = std::getenv("MLSYS_DATA_DIR");
  if (env != nullptr && *env != '\0') return env;
  return MLSYS_DATA_DIR_DEFAULT;
}

}  // namespace mlsys

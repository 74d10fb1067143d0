// Result<T> and Error: how mlsys reports expected failures (bad input, missing files).
//
// Library code returns errors; only the CLI turns one into an exit code and a line on stderr.
//
//   Result<Bytes> r = parse_bytes("64MiB");
//   if (!r) return r.error();          // propagate
//   Bytes b = *r;
#pragma once

#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace mlsys {

enum class ErrorCode {
  kInvalidInput,  // malformed file, bad option value, violated constraint
  kNotFound,      // missing file, unknown name
  kIo,            // the file exists but cannot be read or written
  kUnsupported,   // well-formed but outside what mlsys handles
  kCheckFailed,   // a check or SLO the command evaluates did not hold (exit 1)
  kInternal,      // a bug in mlsys (exit 3)
};

/// Where an error happened: a file and 1-based line, or a config key / option name.
struct Location {
  std::string file;  // file path, config key or "--option"; empty when unknown
  int line = 0;      // 1-based; 0 when not a line in a file
};

class Error {
 public:
  Error(ErrorCode code, std::string message, std::string hint = {}, Location where = {})
      : code_(code), message_(std::move(message)), hint_(std::move(hint)), where_(std::move(where)) {}

  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  const std::string& hint() const { return hint_; }
  const Location& where() const { return where_; }

  /// Returns a copy located at `where`, unless a location is already set (the innermost wins).
  Error at(Location where) const {
    Error e = *this;
    if (e.where_.file.empty()) e.where_ = std::move(where);
    return e;
  }
  /// Returns a copy whose message is prefixed with "context: ".
  Error context(std::string_view context) const {
    Error e = *this;
    e.message_ = std::string(context) + ": " + e.message_;
    return e;
  }

  /// "<file>:<line>: <what> (<hint>)", the form the CLI prints after "mlsys: error: ".
  std::string to_string() const {
    std::string s;
    if (!where_.file.empty()) {
      s += where_.file;
      if (where_.line > 0) s += ":" + std::to_string(where_.line);
      s += ": ";
    }
    s += message_;
    if (!hint_.empty()) s += " (" + hint_ + ")";
    return s;
  }

 private:
  ErrorCode code_;
  std::string message_;
  std::string hint_;
  Location where_;
};

inline Error invalid_input(std::string message, std::string hint = {}, Location where = {}) {
  return Error(ErrorCode::kInvalidInput, std::move(message), std::move(hint), std::move(where));
}
inline Error not_found(std::string message, std::string hint = {}, Location where = {}) {
  return Error(ErrorCode::kNotFound, std::move(message), std::move(hint), std::move(where));
}
inline Error unsupported(std::string message, std::string hint = {}, Location where = {}) {
  return Error(ErrorCode::kUnsupported, std::move(message), std::move(hint), std::move(where));
}

/// A value or an Error. Test with `if (r)`, read with `*r` / `r->`, get the error with `error()`.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}         // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}     // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& operator*() & { return std::get<0>(v_); }
  const T& operator*() const& { return std::get<0>(v_); }
  T&& operator*() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }

  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

/// Result of an operation with no value: success or an Error.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }

 private:
  Error error_{ErrorCode::kInternal, ""};
  bool ok_ = true;
};

inline Status ok_status() { return {}; }

}  // namespace mlsys

#define MLSYS_CONCAT_INNER(a, b) a##b
#define MLSYS_CONCAT(a, b) MLSYS_CONCAT_INNER(a, b)

/// Evaluates a Status or Result expression and returns its error from the enclosing function.
#define MLSYS_RETURN_IF_ERROR(expr)                                \
  do {                                                             \
    auto&& mlsys_status_ = (expr);                                 \
    if (!mlsys_status_) return mlsys_status_.error();              \
  } while (false)

/// `MLSYS_ASSIGN_OR_RETURN(auto x, parse(...));` declares x from a Result or returns its error.
#define MLSYS_ASSIGN_OR_RETURN(decl, expr) \
  MLSYS_ASSIGN_OR_RETURN_IMPL(MLSYS_CONCAT(mlsys_result_, __LINE__), decl, expr)
#define MLSYS_ASSIGN_OR_RETURN_IMPL(tmp, decl, expr) \
  auto tmp = (expr);                                 \
  if (!tmp) return tmp.error();                      \
  decl = std::move(*tmp)

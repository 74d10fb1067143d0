// Streaming CSV reader (RFC 4180) for plain and gzip-compressed files, row by row in bounded
// memory, with columns looked up by header name and typed getters that name file:line:column.
//
//   MLSYS_ASSIGN_OR_RETURN(CsvReader csv, CsvReader::open("trace.csv.gz"));
//   CsvRow row;
//   for (;;) { MLSYS_ASSIGN_OR_RETURN(bool more, csv.next(row)); if (!more) break;
//              MLSYS_ASSIGN_OR_RETURN(int64_t tokens, row.get_int64("ContextTokens")); ... }
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mlsys/core/result.h"

namespace mlsys {

struct CsvOptions {
  /// Field separator; must not be '"', '\r' or '\n' (a bug otherwise).
  char delimiter = ',';
  /// Skip lines whose first character is '#' (outside quotes): the shared data files open with
  /// comment blocks.
  bool skip_comments = true;
  /// The first record names the columns.
  bool has_header = true;
};

/// Longest record accepted, so a stray quote cannot pull a whole file into memory.
inline constexpr size_t kMaxCsvRecordBytes = size_t{64} << 20;

class CsvSchema;  // column names and the file name, shared by all rows of a file

/// One record. Rows may have fewer or more fields than the header (real files do); getters by
/// name report a missing field as an error.
class CsvRow {
 public:
  size_t size() const { return fields_.size(); }
  /// Field `index` (MLSYS_CHECKed to be < size()).
  std::string_view operator[](size_t index) const;
  const std::vector<std::string>& fields() const { return fields_; }
  /// Line on which the record starts (1-based).
  int line() const { return line_; }
  Location location() const;

  /// The raw field under `column`. Errors: unknown column, row too short.
  Result<std::string_view> get(std::string_view column) const;
  /// The field parsed as a finite number (surrounding blanks ignored):
  /// "<file>:<line>: column 'x': expected a number, got 'abc'".
  Result<double> get_double(std::string_view column) const;
  /// The field parsed as a whole decimal number that fits int64.
  Result<int64_t> get_int64(std::string_view column) const;

 private:
  friend class CsvReader;
  Error field_error(std::string_view column, std::string message) const;

  std::vector<std::string> fields_;
  int line_ = 0;
  std::shared_ptr<const CsvSchema> schema_;
};

class CsvReader {
 public:
  /// Opens a file; gzip data (by content, e.g. .gz) is decompressed on the fly. Reads the
  /// header when options.has_header. kNotFound when the file does not exist.
  static Result<CsvReader> open(const std::string& path, CsvOptions options = {});
  /// Reads from memory; `name` stands in for the file name in errors.
  static Result<CsvReader> from_string(std::string text, std::string name, CsvOptions options = {});

  CsvReader(CsvReader&&) noexcept;
  CsvReader& operator=(CsvReader&&) noexcept;
  ~CsvReader();

  /// Reads the next record into `row` (reusing its storage). true: a row was read; false: end
  /// of input. Errors: an unterminated quoted field (located where it starts), text after a
  /// closing quote, a record over kMaxCsvRecordBytes, a read or decompression failure.
  Result<bool> next(CsvRow& row);

  /// Column names (empty without a header).
  const std::vector<std::string>& header() const;
  std::optional<size_t> column_index(std::string_view name) const;
  /// The column's index, or an error located at the header naming the closest column.
  Result<size_t> require_column(std::string_view name) const;
  const std::string& name() const;

 private:
  struct Impl;
  explicit CsvReader(std::unique_ptr<Impl> impl);
  Status read_header();
  std::unique_ptr<Impl> impl_;
};

/// A whole CSV held in memory.
struct CsvTable {
  std::vector<std::string> header;
  std::vector<CsvRow> rows;
};

/// Reads all of `text` (for tests, fuzzing and small inputs).
Result<CsvTable> read_csv_string(std::string_view text, std::string_view name, CsvOptions options = {});

}  // namespace mlsys

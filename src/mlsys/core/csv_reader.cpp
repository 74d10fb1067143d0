#include "mlsys/core/csv_reader.h"

#include <zlib.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <map>

#include "mlsys/core/check.h"
#include "mlsys/core/strings.h"

namespace mlsys {

class CsvSchema {
 public:
  std::string file;
  int header_line = 0;
  std::vector<std::string> names;
  std::map<std::string, size_t, std::less<>> index;

  std::optional<size_t> find(std::string_view name) const {
    auto it = index.find(name);
    if (it == index.end()) return std::nullopt;
    return it->second;
  }
};

namespace {

constexpr size_t kChunkBytes = 64 * 1024;

// Where bytes come from: memory or a (possibly gzip-compressed) file.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  /// Fills `buf`; 0 at end of input.
  virtual Result<size_t> read(char* buf, size_t capacity) = 0;
};

class StringSource final : public ByteSource {
 public:
  explicit StringSource(std::string text) : text_(std::move(text)) {}
  Result<size_t> read(char* buf, size_t capacity) override {
    const size_t n = std::min(capacity, text_.size() - pos_);
    std::memcpy(buf, text_.data() + pos_, n);
    pos_ += n;
    return n;
  }

 private:
  std::string text_;
  size_t pos_ = 0;
};

// zlib reads gzip members and passes other files through unchanged, so plain and .gz files share
// this path.
class GzSource final : public ByteSource {
 public:
  GzSource(gzFile file, std::string path) : file_(file), path_(std::move(path)) {}
  ~GzSource() override { gzclose(file_); }
  GzSource(const GzSource&) = delete;
  GzSource& operator=(const GzSource&) = delete;

  Result<size_t> read(char* buf, size_t capacity) override {
    const int n = gzread(file_, buf, static_cast<unsigned>(capacity));
    int errnum = Z_OK;
    const char* message = gzerror(file_, &errnum);
    if (n < 0 || (n == 0 && errnum != Z_OK)) {
      std::string what = errnum == Z_ERRNO ? std::string(std::strerror(errno)) : std::string(message);
      if (errnum == Z_BUF_ERROR) what = "truncated gzip data (" + what + ")";
      return Error(ErrorCode::kIo, "cannot read: " + what, {}, Location{path_, 0});
    }
    return static_cast<size_t>(n);
  }

 private:
  gzFile file_;
  std::string path_;
};

std::string describe_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u >= 0x20 && u < 0x7f) return std::string("'") + c + "'";
  static constexpr char kHex[] = "0123456789abcdef";
  return std::string("byte 0x") + kHex[u >> 4] + kHex[u & 15];
}

}  // namespace

struct CsvReader::Impl {
  std::unique_ptr<ByteSource> source;
  CsvOptions options;
  std::shared_ptr<CsvSchema> schema = std::make_shared<CsvSchema>();
  std::vector<char> buffer = std::vector<char>(kChunkBytes);
  size_t pos = 0;
  size_t end = 0;
  bool eof = false;
  int line = 1;

  Location here(int at_line) const { return Location{schema->file, at_line}; }

  // Makes a byte available unless the input is exhausted.
  Result<bool> fill() {
    if (pos < end) return true;
    if (eof) return false;
    MLSYS_ASSIGN_OR_RETURN(size_t n, source->read(buffer.data(), buffer.size()));
    pos = 0;
    end = n;
    if (n == 0) eof = true;
    return n > 0;
  }

  // Consumes the rest of the current line, including its '\n'.
  Status skip_line() {
    for (;;) {
      MLSYS_ASSIGN_OR_RETURN(bool more, fill());
      if (!more) return ok_status();
      const char c = buffer[pos++];
      if (c == '\n') {
        ++line;
        return ok_status();
      }
    }
  }

  // Reads one record into `fields`; false at end of input.
  Result<bool> read_record(std::vector<std::string>& fields, int& record_line) {
    for (;;) {
      MLSYS_ASSIGN_OR_RETURN(bool more, skip_blank_and_comment_lines());
      if (!more) return false;
      record_line = line;
      size_t count = 0;
      size_t record_bytes = 0;
      bool quoted = false;
      for (;;) {
        if (count == fields.size()) fields.emplace_back();
        std::string& field = fields[count++];
        field.clear();
        MLSYS_ASSIGN_OR_RETURN(char terminator, read_field(field, quoted, record_bytes));
        if (terminator != options.delimiter) break;
      }
      fields.resize(count);
      // A line holding only "\r" (CRLF files) is blank too; a quoted "" is a real record.
      const bool blank = count == 1 && !quoted && fields[0].empty();
      if (!blank) return true;
    }
  }

  // Skips '\n'-only lines and, when enabled, '#' lines; false at end of input.
  Result<bool> skip_blank_and_comment_lines() {
    for (;;) {
      MLSYS_ASSIGN_OR_RETURN(bool more, fill());
      if (!more) return false;
      const char c = buffer[pos];
      if (c == '\n') {
        ++pos;
        ++line;
      } else if (c == '#' && options.skip_comments) {
        MLSYS_RETURN_IF_ERROR(skip_line());
      } else {
        return true;
      }
    }
  }

  // Reads one field and what ended it: the delimiter, '\n' or '\0' for end of input.
  Result<char> read_field(std::string& field, bool& quoted, size_t& record_bytes) {
    MLSYS_ASSIGN_OR_RETURN(bool more, fill());
    quoted = more && buffer[pos] == '"';
    if (quoted) {
      ++pos;
      MLSYS_RETURN_IF_ERROR(read_quoted(field, record_bytes));
      MLSYS_ASSIGN_OR_RETURN(bool after, fill());
      if (!after) return '\0';
      const char c = buffer[pos];
      if (c == options.delimiter || c == '\n') {
        ++pos;
        if (c == '\n') ++line;
        return c;
      }
      if (c == '\r') {
        ++pos;
        MLSYS_ASSIGN_OR_RETURN(bool nl, fill());
        if (!nl) return '\0';
        if (buffer[pos] == '\n') {
          ++pos;
          ++line;
          return '\n';
        }
      }
      return Error(invalid_input("unexpected " + describe_char(c) + " after a closing quote",
                                 "inside a quoted field write a quote as \"\"", here(line)));
    }
    for (;;) {
      MLSYS_ASSIGN_OR_RETURN(bool avail, fill());
      if (!avail || buffer[pos] == '\n') {
        // CRLF, or a CR ending the last line.
        if (!field.empty() && field.back() == '\r') field.pop_back();
        if (!avail) return '\0';
        ++pos;
        ++line;
        return '\n';
      }
      const char c = buffer[pos++];
      if (c == options.delimiter) return c;
      field += c;
      if (++record_bytes > kMaxCsvRecordBytes) return record_too_long();
    }
  }

  // After the opening quote: up to and including the closing quote.
  Status read_quoted(std::string& field, size_t& record_bytes) {
    const int start_line = line;
    for (;;) {
      MLSYS_ASSIGN_OR_RETURN(bool more, fill());
      if (!more) {
        return invalid_input("unterminated quoted field", "add the closing '\"'", here(start_line));
      }
      const char c = buffer[pos++];
      if (c == '"') {
        MLSYS_ASSIGN_OR_RETURN(bool next, fill());
        if (!next || buffer[pos] != '"') return ok_status();
        ++pos;  // "" is one quote
      } else if (c == '\n') {
        ++line;
      }
      field += c;
      if (++record_bytes > kMaxCsvRecordBytes) return record_too_long();
    }
  }

  Error record_too_long() const {
    return invalid_input("record longer than " + std::to_string(kMaxCsvRecordBytes >> 20) + " MiB",
                         "is a quote left open?", here(line));
  }
};

CsvReader::CsvReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CsvReader::CsvReader(CsvReader&&) noexcept = default;
CsvReader& CsvReader::operator=(CsvReader&&) noexcept = default;
CsvReader::~CsvReader() = default;

namespace {
void check_options(const CsvOptions& options) {
  MLSYS_CHECK(options.delimiter != '"' && options.delimiter != '\r' && options.delimiter != '\n',
              "CSV delimiter cannot be a quote or a line break");
}
}  // namespace

Result<CsvReader> CsvReader::open(const std::string& path, CsvOptions options) {
  check_options(options);
  errno = 0;
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) {
    if (errno == ENOENT) return not_found("no such file", "check the path", Location{path, 0});
    return Error(ErrorCode::kIo, std::string("cannot open file: ") + std::strerror(errno), {}, Location{path, 0});
  }
  gzbuffer(file, static_cast<unsigned>(kChunkBytes));
  auto impl = std::make_unique<Impl>();
  impl->source = std::make_unique<GzSource>(file, path);
  impl->options = options;
  impl->schema->file = path;
  CsvReader reader(std::move(impl));
  MLSYS_RETURN_IF_ERROR(reader.read_header());
  return reader;
}

Result<CsvReader> CsvReader::from_string(std::string text, std::string name, CsvOptions options) {
  check_options(options);
  auto impl = std::make_unique<Impl>();
  impl->source = std::make_unique<StringSource>(std::move(text));
  impl->options = options;
  impl->schema->file = std::move(name);
  CsvReader reader(std::move(impl));
  MLSYS_RETURN_IF_ERROR(reader.read_header());
  return reader;
}

Status CsvReader::read_header() {
  if (!impl_->options.has_header) return ok_status();
  CsvSchema& schema = *impl_->schema;
  MLSYS_ASSIGN_OR_RETURN(bool found, impl_->read_record(schema.names, schema.header_line));
  if (!found) return invalid_input("no header row", "the file is empty", Location{schema.file, impl_->line});
  for (size_t i = 0; i < schema.names.size(); ++i) {
    const std::string& name = schema.names[i];
    auto [it, inserted] = schema.index.emplace(name, i);
    if (!inserted && !name.empty()) {
      return invalid_input("duplicate column '" + name + "' in the header",
                           "columns " + std::to_string(it->second + 1) + " and " + std::to_string(i + 1),
                           Location{schema.file, schema.header_line});
    }
  }
  return ok_status();
}

Result<bool> CsvReader::next(CsvRow& row) {
  row.schema_ = impl_->schema;
  return impl_->read_record(row.fields_, row.line_);
}

const std::vector<std::string>& CsvReader::header() const { return impl_->schema->names; }

std::optional<size_t> CsvReader::column_index(std::string_view name) const { return impl_->schema->find(name); }

Result<size_t> CsvReader::require_column(std::string_view name) const {
  const CsvSchema& schema = *impl_->schema;
  if (std::optional<size_t> i = schema.find(name)) return *i;
  std::string hint = did_you_mean(name, schema.names);
  if (hint.empty()) hint = "columns are: " + join(schema.names, ", ");
  return invalid_input("no column '" + std::string(name) + "'", std::move(hint),
                       Location{schema.file, schema.header_line});
}

const std::string& CsvReader::name() const { return impl_->schema->file; }

std::string_view CsvRow::operator[](size_t index) const {
  MLSYS_CHECK(index < fields_.size(), "CSV field index out of range");
  return fields_[index];
}

Location CsvRow::location() const { return Location{schema_ ? schema_->file : std::string(), line_}; }

Error CsvRow::field_error(std::string_view column, std::string message) const {
  return invalid_input("column '" + std::string(column) + "': " + std::move(message), {}, location());
}

Result<std::string_view> CsvRow::get(std::string_view column) const {
  std::optional<size_t> index = schema_ ? schema_->find(column) : std::nullopt;
  if (!index) {
    Error e = field_error(column, "no such column");
    if (schema_) {
      std::string hint = did_you_mean(column, schema_->names);
      if (hint.empty()) hint = "columns are: " + join(schema_->names, ", ");
      e = Error(e.code(), e.message(), std::move(hint), e.where());
    }
    return e;
  }
  if (*index >= fields_.size()) {
    const size_t n = fields_.size();
    return field_error(column, "missing (the row has " + std::to_string(n) + (n == 1 ? " field)" : " fields)"));
  }
  return std::string_view(fields_[*index]);
}

Result<double> CsvRow::get_double(std::string_view column) const {
  MLSYS_ASSIGN_OR_RETURN(std::string_view raw, get(column));
  std::string_view text = trim_blanks(raw);
  if (text.empty()) return field_error(column, "empty, expected a number");
  if (text.front() == '+') text.remove_prefix(1);
  double value = 0.0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || !std::isfinite(value)) {
    return field_error(column, "expected a number, got '" + std::string(raw) + "'");
  }
  return value;
}

Result<int64_t> CsvRow::get_int64(std::string_view column) const {
  MLSYS_ASSIGN_OR_RETURN(std::string_view raw, get(column));
  std::string_view text = trim_blanks(raw);
  if (text.empty()) return field_error(column, "empty, expected an integer");
  if (text.front() == '+') text.remove_prefix(1);
  int64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec == std::errc::result_out_of_range) {
    return field_error(column, "integer '" + std::string(raw) + "' is out of range");
  }
  if (ec != std::errc() || ptr != text.data() + text.size()) {
    return field_error(column, "expected an integer, got '" + std::string(raw) + "'");
  }
  return value;
}

Result<CsvTable> read_csv_string(std::string_view text, std::string_view name, CsvOptions options) {
  MLSYS_ASSIGN_OR_RETURN(CsvReader reader, CsvReader::from_string(std::string(text), std::string(name), options));
  CsvTable table;
  table.header = reader.header();
  for (;;) {
    CsvRow row;
    MLSYS_ASSIGN_OR_RETURN(bool more, reader.next(row));
    if (!more) break;
    table.rows.push_back(std::move(row));
  }
  return table;
}

}  // namespace mlsys

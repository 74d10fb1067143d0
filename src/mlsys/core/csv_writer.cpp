#include "mlsys/core/csv_writer.h"

namespace mlsys {

std::string csv_field(std::string_view field, char delimiter) {
  const bool needs_quotes = field.find_first_of(std::string{'"', '\n', '\r', delimiter}) != std::string_view::npos ||
                            (!field.empty() && field.front() == '#');
  if (!needs_quotes) return std::string(field);
  std::string out = "\"";
  for (const char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

template <class Range>
void CsvWriter::write_fields(const Range& fields, size_t count) {
  if (count == 1 && std::string_view(*fields.begin()).empty()) {
    out_ << "\"\"\n";
    return;
  }
  bool first = true;
  for (const auto& f : fields) {
    if (!first) out_ << delimiter_;
    first = false;
    out_ << csv_field(f, delimiter_);
  }
  out_ << '\n';
}

void CsvWriter::write_row(std::span<const std::string> fields) { write_fields(fields, fields.size()); }

void CsvWriter::write_row(std::initializer_list<std::string_view> fields) { write_fields(fields, fields.size()); }

}  // namespace mlsys

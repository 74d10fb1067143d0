// CSV writer (RFC 4180) whose output CsvReader reads back field for field.
//
//   CsvWriter csv(std::cout);
//   csv.write_row({"model", "tokens/s"});
//   csv.write_row({"llama, 7B", "1234.5"});   // -> "llama, 7B",1234.5
#pragma once

#include <initializer_list>
#include <ostream>
#include <span>
#include <string>
#include <string_view>

namespace mlsys {

/// The field as it appears in a file: quoted (with '"' doubled) when it holds the delimiter, a
/// quote, CR or LF, or starts with '#' (which CsvReader would take for a comment line).
std::string csv_field(std::string_view field, char delimiter = ',');

class CsvWriter {
 public:
  explicit CsvWriter(std::ostream& out, char delimiter = ',') : out_(out), delimiter_(delimiter) {}

  /// One record terminated by '\n'. A record of one empty field is written as "" so it is not
  /// read back as a blank line.
  void write_row(std::span<const std::string> fields);
  void write_row(std::initializer_list<std::string_view> fields);

 private:
  template <class Range>
  void write_fields(const Range& fields, size_t count);

  std::ostream& out_;
  char delimiter_;
};

}  // namespace mlsys

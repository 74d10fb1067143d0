// CSV reader: never crashes; typed getters never crash; every table read writes back with
// CsvWriter to text that reads to the same fields. The first byte picks the options.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "mlsys/core/csv_reader.h"
#include "mlsys/core/csv_writer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  mlsys::CsvOptions options;
  options.skip_comments = (data[0] & 1) != 0;
  options.has_header = (data[0] & 2) != 0;
  constexpr char kDelimiters[] = {',', '\t', ';', '|'};
  options.delimiter = kDelimiters[(data[0] >> 2) & 3];
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);

  const mlsys::Result<mlsys::CsvTable> table = mlsys::read_csv_string(text, "fuzz.csv", options);
  if (!table) {
    FUZZ_CHECK(table.error().where().line >= 1, "a CSV error has a line");
    return 0;
  }
  std::ostringstream out;
  mlsys::CsvWriter writer(out, options.delimiter);
  if (options.has_header) writer.write_row(table->header);
  for (const mlsys::CsvRow& row : table->rows) {
    FUZZ_CHECK(row.size() >= 1, "a row has a field");
    for (const std::string& column : table->header) {
      (void)row.get_double(column);
      (void)row.get_int64(column);
    }
    writer.write_row(row.fields());
  }
  const mlsys::Result<mlsys::CsvTable> again = mlsys::read_csv_string(out.str(), "written.csv", options);
  FUZZ_CHECK(again, "written CSV parses");
  FUZZ_CHECK(again->header == table->header, "header survives a round trip");
  FUZZ_CHECK(again->rows.size() == table->rows.size(), "row count survives a round trip");
  for (size_t i = 0; i < table->rows.size(); ++i) {
    FUZZ_CHECK(again->rows[i].fields() == table->rows[i].fields(), "fields survive a round trip");
  }
  return 0;
}

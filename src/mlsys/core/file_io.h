// Whole-file reading and writing with located errors, for readers and writers of small files.
//
//   MLSYS_ASSIGN_OR_RETURN(std::string text, read_text_file("model.json"));
//   MLSYS_RETURN_IF_ERROR(write_text_file("out/plot.svg", svg));
//   // a missing file is ErrorCode::kNotFound naming the path; other failures are kIo
//   std::string trace = data_dir() + "/serve/AzureLLMInferenceTrace_code.csv.gz";
#pragma once

#include <string>
#include <string_view>

#include "mlsys/core/result.h"

namespace mlsys {

/// The file's bytes. kNotFound when it does not exist, kIo when it cannot be read (a directory,
/// no permission). The error's location is the path.
Result<std::string> read_text_file(const std::string& path);

/// Writes (replaces) the file. kIo with the path when it cannot be created or written.
Status write_text_file(const std::string& path, std::string_view content);

/// Directory of the data files mlsys reads at run time (traces, profiles): $MLSYS_DATA_DIR when
/// set and non-empty, else the source tree's data/ as it was at build time.
std::string data_dir();

}  // namespace mlsys

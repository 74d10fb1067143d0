// Every real input file in shared/data that the readers are meant for parses.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "mlsys/core/csv_reader.h"
#include "mlsys/core/json_reader.h"
#include "mlsys/core/yaml_reader.h"

namespace mlsys {
namespace {

namespace fs = std::filesystem;

// Files under shared/data/<folder> whose names end in one of `suffixes`, sorted.
std::vector<std::string> data_files(const std::string& folder, std::vector<std::string> suffixes) {
  std::vector<std::string> out;
  const fs::path dir = fs::path(MLSYS_SHARED_DATA) / folder;
  if (!fs::is_directory(dir)) return out;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    for (const std::string& s : suffixes) {
      if (name.size() >= s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0) {
        out.push_back(entry.path().string());
      }
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Reads every row and returns how many there were (or fails the test).
int64_t count_rows(const std::string& path) {
  Result<CsvReader> reader = CsvReader::open(path);
  EXPECT_TRUE(reader) << reader.error().to_string();
  if (!reader) return -1;
  EXPECT_FALSE(reader->header().empty()) << path;
  CsvRow row;
  int64_t rows = 0;
  for (;;) {
    Result<bool> more = reader->next(row);
    EXPECT_TRUE(more) << more.error().to_string();
    if (!more || !*more) break;
    ++rows;
  }
  return rows;
}

TEST(SharedData, TraceCsvsParse) {
  const std::vector<std::string> files = data_files("traces", {".csv"});
  if (files.empty()) GTEST_SKIP() << "no shared/data/traces";
  for (const std::string& f : files) EXPECT_GT(count_rows(f), 1000) << f;
}

TEST(SharedData, AzureTraceHasTypedColumns) {
  const std::string path = std::string(MLSYS_SHARED_DATA) + "/traces/AzureLLMInferenceTrace_code.csv";
  if (!fs::exists(path)) GTEST_SKIP() << "no Azure trace";
  Result<CsvReader> reader = CsvReader::open(path);
  ASSERT_TRUE(reader) << reader.error().to_string();
  CsvRow row;
  int64_t tokens = 0;
  for (;;) {
    Result<bool> more = reader->next(row);
    ASSERT_TRUE(more) << more.error().to_string();
    if (!*more) break;
    Result<int64_t> context = row.get_int64("ContextTokens");
    ASSERT_TRUE(context) << context.error().to_string();
    ASSERT_TRUE(row.get_int64("GeneratedTokens"));
    tokens += *context;
  }
  EXPECT_GT(tokens, 0);
}

TEST(SharedData, TrainingReferenceCsvsParse) {
  const std::vector<std::string> files = data_files("training/reference", {".csv"});
  if (files.empty()) GTEST_SKIP() << "no shared/data/training/reference";
  for (const std::string& f : files) EXPECT_GT(count_rows(f), 0) << f;
}

TEST(SharedData, AstraSimYamlsParse) {
  const std::vector<std::string> files = data_files("astra-sim-inputs", {".yml", ".yaml"});
  if (files.empty()) GTEST_SKIP() << "no shared/data/astra-sim-inputs";
  for (const std::string& f : files) {
    Result<Value> v = read_config_file(f);
    ASSERT_TRUE(v) << v.error().to_string();
    EXPECT_TRUE(v->is_object()) << f;
    Result<const Value*> bw = v->get("bandwidth");
    ASSERT_TRUE(bw) << bw.error().to_string();
    ASSERT_TRUE((*bw)->is_array()) << f;
    EXPECT_TRUE((*bw)->items()[0].as_number()) << f;
  }
}

TEST(SharedData, AstraSimJsonsParse) {
  const std::vector<std::string> files = data_files("astra-sim-inputs", {".json"});
  if (files.empty()) GTEST_SKIP() << "no shared/data/astra-sim-inputs";
  for (const std::string& f : files) {
    Result<Value> v = read_config_file(f);
    EXPECT_TRUE(v) << v.error().to_string();
  }
}

TEST(SharedData, ModelConfigsParse) {
  const std::vector<std::string> files = data_files("models", {".json"});
  if (files.empty()) GTEST_SKIP() << "no shared/data/models";
  for (const std::string& f : files) {
    Result<Value> v = read_json_file(f);
    ASSERT_TRUE(v) << v.error().to_string();
    ASSERT_TRUE(v->is_object()) << f;
    EXPECT_FALSE(v->keys().empty()) << f;
  }
}

TEST(SharedData, LlamaConfigHasExpectedShape) {
  const std::string path = std::string(MLSYS_SHARED_DATA) + "/models/llama-2-7b-hf.config.json";
  if (!fs::exists(path)) GTEST_SKIP() << "no llama config";
  Result<Value> v = read_json_file(path);
  ASSERT_TRUE(v) << v.error().to_string();
  EXPECT_EQ(*v->get_int("hidden_size"), 4096);
  EXPECT_EQ(*v->get_int("num_hidden_layers"), 32);
}

}  // namespace
}  // namespace mlsys

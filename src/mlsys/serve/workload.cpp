#include "mlsys/serve/workload.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <map>
#include <optional>
#include <utility>

#include "mlsys/core/csv_reader.h"
#include "mlsys/core/file_io.h"
#include "mlsys/core/json_reader.h"
#include "mlsys/core/strings.h"

namespace mlsys::serve {
namespace {

constexpr char kSpecForms[] =
    "azure-code, azure-conv, FILE.csv[.gz], FILE.jsonl[.gz], poisson:rate=R[,n=N][,prompt=D][,output=D], "
    "gamma:rate=R,cv=C[,n=N][,prompt=D][,output=D]";
constexpr char kDistributionForms[] =
    "fixed:N, uniform:A:B, lognormal:mean=M[,sigma=S][,max=X], zipf:max=M[,s=S], "
    "file:PATH|arxiv|azure-code|azure-conv";
// Bounds that keep a hostile spec from asking for unbounded memory or overflowing Time.
constexpr int64_t kMaxGeneratedRequests = 100'000'000;
constexpr int64_t kMaxClients = 1'000'000;
constexpr int64_t kMaxTokens = int64_t{1} << 40;
constexpr double kMaxTraceSeconds = 1e9;  // ~31 years of trace clock
constexpr int64_t kDefaultGeneratedRequests = 1000;
constexpr size_t kMaxJsonlLineBytes = size_t{64} << 20;

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::optional<double> to_double(std::string_view text) {
  text = trim_blanks(text);
  double v = 0;
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || p != text.data() + text.size() || !std::isfinite(v)) {
    return std::nullopt;
  }
  return v;
}

std::optional<int64_t> to_int64(std::string_view text) {
  text = trim_blanks(text);
  int64_t v = 0;
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || p != text.data() + text.size()) return std::nullopt;
  return v;
}

// ---------------------------------------------------------------------------------------------
// Spec parameters: "key=value,key=value". A distribution value may itself hold commas
// ("prompt=lognormal:mean=512,sigma=0.5,output=fixed:64"), so a piece whose key is not one of
// the spec's own keys continues the previous distribution-valued parameter.

struct Param {
  std::string key;
  std::string value;
};

Error spec_key_error(std::string_view spec, std::string_view key, std::span<const std::string> accepted) {
  std::string hint = "accepted: " + join(accepted, ", ");
  const std::string close = did_you_mean(key, accepted);
  if (!close.empty()) hint += "; " + close;
  return invalid_input("workload spec '" + std::string(spec) + "': unknown key '" + std::string(key) + "'",
                       hint);
}

Result<std::vector<Param>> split_params(std::string_view spec, std::string_view body,
                                        std::span<const std::string> keys,
                                        std::span<const std::string> distribution_keys) {
  std::vector<Param> params;
  bool previous_is_distribution = false;
  size_t pos = 0;
  while (pos <= body.size()) {
    size_t comma = body.find(',', pos);
    if (comma == std::string_view::npos) comma = body.size();
    const std::string_view piece = body.substr(pos, comma - pos);
    pos = comma + 1;
    const size_t eq = piece.find('=');
    const std::string_view key = eq == std::string_view::npos ? piece : piece.substr(0, eq);
    const bool known = std::find(keys.begin(), keys.end(), key) != keys.end();
    if (known && eq != std::string_view::npos) {
      for (const Param& p : params) {
        if (p.key == key) {
          return invalid_input("workload spec '" + std::string(spec) + "': key '" + std::string(key) +
                               "' given twice");
        }
      }
      params.push_back({std::string(key), std::string(piece.substr(eq + 1))});
      previous_is_distribution =
          std::find(distribution_keys.begin(), distribution_keys.end(), key) != distribution_keys.end();
    } else if (previous_is_distribution) {
      params.back().value += ",";
      params.back().value += piece;
    } else if (known) {
      return invalid_input(
          "workload spec '" + std::string(spec) + "': key '" + std::string(key) + "' needs a value",
          "write " + std::string(key) + "=VALUE");
    } else {
      return spec_key_error(spec, key, keys);
    }
    if (comma == body.size()) break;
  }
  return params;
}

Result<double> param_number(std::string_view spec, const Param& p) {
  const std::optional<double> v = to_double(p.value);
  if (!v) {
    return invalid_input("workload spec '" + std::string(spec) + "': " + p.key +
                         ": expected a number, got '" + p.value + "'");
  }
  return *v;
}

Result<int64_t> param_int(std::string_view spec, const Param& p) {
  const std::optional<int64_t> v = to_int64(p.value);
  if (!v) {
    return invalid_input("workload spec '" + std::string(spec) + "': " + p.key +
                         ": expected a whole number, got '" + p.value + "'");
  }
  return *v;
}

Error range_error(std::string_view spec, std::string_view key, std::string_view what) {
  return invalid_input("workload spec '" + std::string(spec) + "': " + std::string(key) + " must be " +
                       std::string(what));
}

// ---------------------------------------------------------------------------------------------
// Shipped files.

std::optional<std::string> shipped_file(std::string_view name) {
  if (name == "azure-code") return data_dir() + "/serve/AzureLLMInferenceTrace_code.csv.gz";
  if (name == "azure-conv") return data_dir() + "/serve/AzureLLMInferenceTrace_conv.csv.gz";
  if (name == "arxiv")
    return data_dir() + "/serve/arxiv_summarization_stats_llama2_tokenizer_filtered_v2.csv.gz";
  return std::nullopt;
}

Result<CsvReader> open_shipped_or_file(const std::string& path, bool shipped) {
  Result<CsvReader> csv = CsvReader::open(path);
  if (!csv && shipped && csv.error().code() == ErrorCode::kNotFound) {
    return not_found("shipped workload file " + path + " not found",
                     "set MLSYS_DATA_DIR to the directory holding serve/ (the repository's data/)");
  }
  return csv;
}

// ---------------------------------------------------------------------------------------------
// Timestamps: "YYYY-MM-DD HH:MM:SS[.fffffffff]" (Azure writes 7 fractional digits, 100 ns).

int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
  // Proleptic Gregorian day count relative to 1970-01-01, computed over 400-year eras.
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

std::optional<int64_t> parse_wall_clock_ns(std::string_view s) {
  s = trim_blanks(s);
  auto digits = [&](size_t at, size_t n) -> std::optional<int64_t> {
    if (at + n > s.size()) return std::nullopt;
    int64_t v = 0;
    for (size_t i = at; i < at + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return std::nullopt;
      v = v * 10 + (s[i] - '0');
    }
    return v;
  };
  if (s.size() < 19 || s[4] != '-' || s[7] != '-' || (s[10] != ' ' && s[10] != 'T') || s[13] != ':' ||
      s[16] != ':') {
    return std::nullopt;
  }
  const auto year = digits(0, 4), month = digits(5, 2), day = digits(8, 2);
  const auto hour = digits(11, 2), minute = digits(14, 2), second = digits(17, 2);
  if (!year || !month || !day || !hour || !minute || !second) return std::nullopt;
  if (*year < 1900 || *year > 2200 || *month < 1 || *month > 12 || *day < 1 || *day > 31 || *hour > 23 ||
      *minute > 59 || *second > 60) {
    return std::nullopt;
  }
  int64_t fraction_ns = 0;
  if (s.size() > 19) {
    if (s[19] != '.' || s.size() == 20 || s.size() > 29) return std::nullopt;
    const auto frac = digits(20, s.size() - 20);
    if (!frac) return std::nullopt;
    fraction_ns = *frac;
    for (size_t i = s.size() - 20; i < 9; ++i) fraction_ns *= 10;
  }
  const int64_t seconds =
      days_from_civil(*year, *month, *day) * 86400 + *hour * 3600 + *minute * 60 + *second;
  return seconds * 1'000'000'000 + fraction_ns;
}

// ---------------------------------------------------------------------------------------------
// Raw rows as read, before ordering and windowing. `arrival` is on the trace's own clock.

struct RawTrace {
  std::vector<Request> requests;  // client: raw id in order of first appearance in the file
  bool sorted = true;
  int64_t skipped = 0;
  int64_t trace_clients = 0;  // 0: the trace has no client ids
  bool rebase = true;         // traces start at their first arrival; generators at 0
};

Error token_error(std::string_view column, int64_t value, Location where) {
  return invalid_input(
      "column '" + std::string(column) + "': expected a token count >= 1, got " + std::to_string(value), "",
      std::move(where));
}

void add_row(RawTrace& raw, Request r) {
  if (!raw.requests.empty() && r.arrival < raw.requests.back().arrival) raw.sorted = false;
  raw.requests.push_back(r);
}

class ClientNames {
 public:
  int64_t id(std::string_view name) {
    auto it = ids_.find(name);
    if (it == ids_.end()) it = ids_.emplace(std::string(name), static_cast<int64_t>(ids_.size())).first;
    return it->second;
  }
  int64_t size() const { return static_cast<int64_t>(ids_.size()); }

 private:
  std::map<std::string, int64_t, std::less<>> ids_;
};

enum class CsvFormat { kAzure, kVidur };

Result<RawTrace> read_csv_trace(CsvReader& csv, bool skip_bad_rows) {
  const std::string& name = csv.name();
  CsvFormat format;
  std::string time_col, prompt_col, output_col;
  if (csv.column_index("TIMESTAMP") && csv.column_index("ContextTokens") &&
      csv.column_index("GeneratedTokens")) {
    format = CsvFormat::kAzure;
    time_col = "TIMESTAMP", prompt_col = "ContextTokens", output_col = "GeneratedTokens";
  } else if (csv.column_index("arrived_at") && csv.column_index("num_prefill_tokens") &&
             csv.column_index("num_decode_tokens")) {
    format = CsvFormat::kVidur;
    time_col = "arrived_at", prompt_col = "num_prefill_tokens", output_col = "num_decode_tokens";
  } else if (csv.column_index("num_prefill_tokens") && csv.column_index("num_decode_tokens")) {
    return invalid_input(
        "'" + name + "' has lengths but no arrival times (no 'arrived_at' column)",
        "use it as a length distribution: poisson:rate=R,prompt=file:" + name + ",output=file:" + name,
        Location{name, 1});
  } else {
    return invalid_input("'" + name + "' is not a known request trace: columns " + join(csv.header(), ","),
                         "expected Azure (TIMESTAMP,ContextTokens,GeneratedTokens) or Vidur "
                         "(arrived_at,num_prefill_tokens,num_decode_tokens)",
                         Location{name, 1});
  }
  std::optional<std::string> client_col;
  for (const char* c : {"client", "client_id"}) {
    if (csv.column_index(c)) {
      client_col = c;
      break;
    }
  }

  RawTrace raw;
  ClientNames clients;
  CsvRow row;
  auto parse_row = [&]() -> Result<Request> {
    Request r;
    if (format == CsvFormat::kAzure) {
      MLSYS_ASSIGN_OR_RETURN(std::string_view ts, row.get(time_col));
      const std::optional<int64_t> ns = parse_wall_clock_ns(ts);
      if (!ns) {
        return invalid_input(
            "column 'TIMESTAMP': expected YYYY-MM-DD HH:MM:SS[.fraction], got '" + std::string(ts) + "'", "",
            row.location());
      }
      r.arrival = Time::from_ns(*ns);
    } else {
      MLSYS_ASSIGN_OR_RETURN(double s, row.get_double(time_col));
      if (s < 0 || s > kMaxTraceSeconds) {
        return invalid_input("column 'arrived_at': expected seconds in [0, 1e9], got " + format_shortest(s),
                             "", row.location());
      }
      r.arrival = from_seconds(s);
    }
    MLSYS_ASSIGN_OR_RETURN(r.prompt_tokens, row.get_int64(prompt_col));
    if (r.prompt_tokens < 1 || r.prompt_tokens > kMaxTokens)
      return token_error(prompt_col, r.prompt_tokens, row.location());
    MLSYS_ASSIGN_OR_RETURN(r.output_tokens, row.get_int64(output_col));
    if (r.output_tokens < 1 || r.output_tokens > kMaxTokens)
      return token_error(output_col, r.output_tokens, row.location());
    if (client_col) {
      MLSYS_ASSIGN_OR_RETURN(std::string_view c, row.get(*client_col));
      r.client = clients.id(trim_blanks(c));
    }
    return r;
  };
  for (;;) {
    MLSYS_ASSIGN_OR_RETURN(bool more, csv.next(row));
    if (!more) break;
    // A blank line is a one-field record with nothing in it: not a request, not an error.
    if (row.size() == 1 && trim_blanks(row[0]).empty()) continue;
    Result<Request> r = parse_row();
    if (!r) {
      if (skip_bad_rows) {
        ++raw.skipped;
        continue;
      }
      return r.error().at(row.location());
    }
    add_row(raw, *r);
  }
  raw.trace_clients = client_col ? clients.size() : 0;
  return raw;
}

// ---------------------------------------------------------------------------------------------
// JSONL (Mooncake): one object per line, {"timestamp": ms, "input_length": n, "output_length": n, ...}.

class LineSource {
 public:
  static Result<LineSource> open(const std::string& path) {
    gzFile f = gzopen(path.c_str(), "rb");
    if (f == nullptr) {
      return Error(ErrorCode::kNotFound, "cannot open '" + path + "'", "", Location{path, 0});
    }
    LineSource s;
    s.file_ = std::shared_ptr<gzFile_s>(f, [](gzFile g) { gzclose(g); });
    s.name_ = path;
    return s;
  }
  static LineSource from_string(std::string text, std::string name) {
    LineSource s;
    s.buffer_ = std::move(text);
    s.eof_ = true;
    s.name_ = std::move(name);
    return s;
  }
  const std::string& name() const { return name_; }
  int line() const { return line_; }

  /// Next line without its '\n' (and '\r'); false at the end.
  Result<bool> next(std::string& out) {
    for (;;) {
      const size_t nl = buffer_.find('\n', pos_);
      if (nl != std::string::npos || eof_) {
        if (pos_ >= buffer_.size() && nl == std::string::npos) return false;
        const size_t end = nl == std::string::npos ? buffer_.size() : nl;
        out.assign(buffer_, pos_, end - pos_);
        if (!out.empty() && out.back() == '\r') out.pop_back();
        pos_ = nl == std::string::npos ? buffer_.size() : nl + 1;
        ++line_;
        return true;
      }
      if (buffer_.size() - pos_ > kMaxJsonlLineBytes) {
        return invalid_input("line longer than 64 MiB", "", Location{name_, line_ + 1});
      }
      buffer_.erase(0, pos_);
      pos_ = 0;
      std::array<char, 1 << 16> chunk;
      const int n = gzread(file_.get(), chunk.data(), static_cast<unsigned>(chunk.size()));
      if (n < 0) {
        int errnum = 0;
        const char* message = gzerror(file_.get(), &errnum);
        return Error(ErrorCode::kIo, std::string("read failed: ") + message, "", Location{name_, line_ + 1});
      }
      if (n == 0) eof_ = true;
      buffer_.append(chunk.data(), static_cast<size_t>(n));
    }
  }

 private:
  std::shared_ptr<gzFile_s> file_;
  std::string name_;
  std::string buffer_;
  size_t pos_ = 0;
  bool eof_ = false;
  int line_ = 0;
};

Error relocate(const Error& e, const std::string& file, int line) {
  return Error(e.code(), e.message(), e.hint(), Location{file, line});
}

Result<RawTrace> read_jsonl_trace(LineSource& lines, bool skip_bad_rows) {
  RawTrace raw;
  ClientNames clients;
  bool has_clients = false;
  std::string line;
  auto parse_line = [&]() -> Result<Request> {
    MLSYS_ASSIGN_OR_RETURN(Value v, parse_json(line, lines.name()));
    if (!v.is_object()) return invalid_input("expected a JSON object, got " + std::string(v.kind_name()));
    Request r;
    MLSYS_ASSIGN_OR_RETURN(double ts_ms, v.get_number("timestamp"));
    if (ts_ms < 0 || ts_ms > kMaxTraceSeconds * 1e3) {
      return invalid_input("timestamp: expected milliseconds in [0, 1e12], got " + format_shortest(ts_ms));
    }
    r.arrival = from_seconds(ts_ms * 1e-3);
    MLSYS_ASSIGN_OR_RETURN(r.prompt_tokens, v.get_int64("input_length"));
    if (r.prompt_tokens < 1 || r.prompt_tokens > kMaxTokens)
      return token_error("input_length", r.prompt_tokens, {});
    MLSYS_ASSIGN_OR_RETURN(r.output_tokens, v.get_int64("output_length"));
    if (r.output_tokens < 1 || r.output_tokens > kMaxTokens)
      return token_error("output_length", r.output_tokens, {});
    if (const Value* c = v.find("client")) {
      if (c->is_string()) {
        r.client = clients.id(*c->as_string());
      } else if (c->is_integer()) {
        r.client = clients.id(std::to_string(*c->as_int64()));
      } else {
        return invalid_input("client: expected a string or an integer, got " + std::string(c->kind_name()));
      }
      has_clients = true;
    }
    return r;
  };
  for (;;) {
    MLSYS_ASSIGN_OR_RETURN(bool more, lines.next(line));
    if (!more) break;
    if (trim_blanks(line).empty()) continue;
    Result<Request> r = parse_line();
    if (!r) {
      if (skip_bad_rows) {
        ++raw.skipped;
        continue;
      }
      return relocate(r.error(), lines.name(), lines.line());
    }
    add_row(raw, *r);
  }
  raw.trace_clients = has_clients ? clients.size() : 0;
  return raw;
}

// ---------------------------------------------------------------------------------------------
// Client assignment rules.

struct ClientRule {
  enum class Kind { kNone, kRoundRobin, kUniform, kZipf } kind = Kind::kNone;
  int64_t n = 1;
  double s = 1.0;
};

Result<ClientRule> parse_client_rule(std::string_view text) {
  const std::string spec(text);
  auto bad = [&](std::string what) {
    return invalid_input("clients '" + spec + "': " + std::move(what),
                         "accepted: none, round-robin:N, uniform:N, zipf:N[,s=S]");
  };
  if (text == "none" || text.empty()) return ClientRule{};
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos) return bad("unknown rule");
  const std::string_view kind = text.substr(0, colon);
  std::string_view body = text.substr(colon + 1);
  ClientRule rule;
  if (kind == "round-robin") {
    rule.kind = ClientRule::Kind::kRoundRobin;
  } else if (kind == "uniform") {
    rule.kind = ClientRule::Kind::kUniform;
  } else if (kind == "zipf") {
    rule.kind = ClientRule::Kind::kZipf;
    const size_t comma = body.find(',');
    if (comma != std::string_view::npos) {
      const std::string_view rest = body.substr(comma + 1);
      body = body.substr(0, comma);
      if (rest.substr(0, 2) != "s=")
        return bad("unknown key '" + std::string(rest.substr(0, rest.find('='))) + "'");
      const std::optional<double> s = to_double(rest.substr(2));
      if (!s || *s <= 0) return bad("s must be a number > 0");
      rule.s = *s;
    }
  } else {
    return bad("unknown rule '" + std::string(kind) + "'");
  }
  const std::optional<int64_t> n = to_int64(body);
  if (!n || *n < 1 || *n > kMaxClients) return bad("N must be a whole number in [1, 1000000]");
  rule.n = *n;
  return rule;
}

// ---------------------------------------------------------------------------------------------
// Generators.

Result<RawTrace> generate(std::string_view spec, bool gamma, std::string_view body,
                          const WorkloadOptions& options) {
  static const std::vector<std::string> kPoissonKeys = {"rate", "n", "prompt", "output"};
  static const std::vector<std::string> kGammaKeys = {"rate", "cv", "n", "prompt", "output"};
  static const std::vector<std::string> kDistKeys = {"prompt", "output"};
  MLSYS_ASSIGN_OR_RETURN(std::vector<Param> params,
                         split_params(spec, body, gamma ? kGammaKeys : kPoissonKeys, kDistKeys));
  std::optional<double> rate;
  double cv = 1.0;
  std::optional<int64_t> n;
  std::string prompt_spec = "fixed:512", output_spec = "fixed:128";
  for (const Param& p : params) {
    if (p.key == "rate") {
      MLSYS_ASSIGN_OR_RETURN(rate, param_number(spec, p));
      if (!(*rate > 0) || *rate > 1e9) return range_error(spec, "rate", "in (0, 1e9] requests per second");
    } else if (p.key == "cv") {
      MLSYS_ASSIGN_OR_RETURN(cv, param_number(spec, p));
      if (!(cv > 0) || cv > 1e3) return range_error(spec, "cv", "in (0, 1000]");
    } else if (p.key == "n") {
      MLSYS_ASSIGN_OR_RETURN(n, param_int(spec, p));
      if (*n < 1 || *n > kMaxGeneratedRequests) return range_error(spec, "n", "in [1, 100000000]");
    } else if (p.key == "prompt") {
      prompt_spec = p.value;
    } else {
      output_spec = p.value;
    }
  }
  if (!rate) {
    return invalid_input("workload spec '" + std::string(spec) + "': missing key 'rate'",
                         "e.g. " + std::string(gamma ? "gamma:rate=4,cv=2" : "poisson:rate=4"));
  }
  MLSYS_ASSIGN_OR_RETURN(LengthDistribution prompt, LengthDistribution::parse(prompt_spec, "prompt"));
  MLSYS_ASSIGN_OR_RETURN(LengthDistribution output, LengthDistribution::parse(output_spec, "output"));
  // Prompt and output from the same file come from the same row, keeping their correlation.
  const bool paired = prompt.is_file() && output.is_file() && prompt.spec() == output.spec();

  const Time window_end = (options.duration == Time::max() || options.start > Time::max() - options.duration)
                              ? Time::max()
                              : options.start + options.duration;
  // Without n, generation stops once the window is covered or max_requests fall in it.
  const bool bounded = n || window_end != Time::max() || options.max_requests > 0;
  const int64_t count_cap = n ? *n : (bounded ? kMaxGeneratedRequests : kDefaultGeneratedRequests);

  RngStream arrivals(options.seed, "serve/workload/arrivals");
  RngStream lengths(options.seed, "serve/workload/lengths");
  const double shape = 1.0 / (cv * cv);
  const double scale = cv * cv / *rate;
  RawTrace raw;
  raw.rebase = false;
  double t = 0.0;
  int64_t in_window = 0;
  for (int64_t i = 0; i < count_cap; ++i) {
    t += gamma ? arrivals.gamma(shape, scale) : arrivals.exponential(*rate);
    if (t > kMaxTraceSeconds) break;
    Request r;
    r.arrival = from_seconds(t);
    if (!n && r.arrival >= window_end) break;
    if (paired) {
      const auto row =
          static_cast<size_t>(lengths.uniform_int(0, static_cast<int64_t>(prompt.file_rows()) - 1));
      r.prompt_tokens = prompt.file_value(row);
      r.output_tokens = output.file_value(row);
    } else {
      r.prompt_tokens = prompt.sample(lengths);
      r.output_tokens = output.sample(lengths);
    }
    raw.requests.push_back(r);
    if (r.arrival >= options.start) ++in_window;
    if (!n && options.max_requests > 0 && in_window >= options.max_requests) break;
  }
  if (!n && bounded && static_cast<int64_t>(raw.requests.size()) >= kMaxGeneratedRequests) {
    return invalid_input(
        "workload spec '" + std::string(spec) + "' would generate more than 100,000,000 requests",
        "set n=, max_requests or a shorter window");
  }
  return raw;
}

// ---------------------------------------------------------------------------------------------
// Common tail: order, window, rate scaling, max_requests, ids, prompt cap, clients.

Result<Workload> finish(RawTrace raw, std::string name, const WorkloadOptions& options) {
  std::vector<Request>& rs = raw.requests;
  if (!raw.sorted) {
    std::stable_sort(rs.begin(), rs.end(),
                     [](const Request& a, const Request& b) { return a.arrival < b.arrival; });
  }
  const Time origin = raw.rebase && !rs.empty() ? rs.front().arrival : Time::zero();
  const Time span = rs.empty() ? Time::zero() : rs.back().arrival - origin;
  const Time window_end = (options.duration == Time::max() || options.start > Time::max() - options.duration)
                              ? Time::max()
                              : options.start + options.duration;
  size_t kept = 0;
  for (const Request& r0 : rs) {
    const Time a = r0.arrival - origin;
    if (a < options.start) continue;
    if (a >= window_end) break;
    if (options.max_requests > 0 && static_cast<int64_t>(kept) >= options.max_requests) break;
    Request r = r0;
    r.arrival = (a - options.start) / options.rate_scale;
    r.id = static_cast<int64_t>(kept);
    rs[kept++] = r;
  }
  rs.resize(kept);
  rs.shrink_to_fit();
  if (rs.empty()) {
    return invalid_input("workload '" + name + "' has no requests in the window [" +
                             format_time(options.start) + ", " +
                             (window_end == Time::max() ? std::string("end") : format_time(window_end)) + ")",
                         "the trace spans " + format_time(span) + " from its first arrival");
  }

  Workload w;
  w.name = std::move(name);
  w.skipped_rows = raw.skipped;
  if (options.max_prompt_tokens > 0) {
    for (Request& r : rs) {
      if (r.prompt_tokens > options.max_prompt_tokens) {
        r.prompt_tokens = options.max_prompt_tokens;
        ++w.truncated_prompts;
      }
    }
  }

  MLSYS_ASSIGN_OR_RETURN(ClientRule rule, parse_client_rule(options.clients));
  RngStream client_rng(options.seed, "serve/workload/clients");
  switch (rule.kind) {
    case ClientRule::Kind::kNone:
      if (raw.trace_clients > 0) {
        // Dense ids in order of first appearance among the kept requests.
        std::vector<int64_t> dense(static_cast<size_t>(raw.trace_clients), -1);
        int64_t next = 0;
        for (Request& r : rs) {
          int64_t& d = dense[static_cast<size_t>(r.client)];
          if (d < 0) d = next++;
          r.client = d;
        }
        w.clients = next;
      } else {
        for (Request& r : rs) r.client = 0;
        w.clients = 1;
      }
      break;
    case ClientRule::Kind::kRoundRobin:
      for (Request& r : rs) r.client = r.id % rule.n;
      w.clients = rule.n;
      break;
    case ClientRule::Kind::kUniform:
      for (Request& r : rs) r.client = client_rng.uniform_int(0, rule.n - 1);
      w.clients = rule.n;
      break;
    case ClientRule::Kind::kZipf:
      for (Request& r : rs) r.client = client_rng.zipf(rule.n, rule.s) - 1;
      w.clients = rule.n;
      break;
  }
  w.requests = std::move(rs);
  return w;
}

Status check_options(const WorkloadOptions& o) {
  if (o.max_requests < 0) return invalid_input("max_requests must be >= 0 (0: all)");
  if (o.start < Time::zero()) return invalid_input("window start must be >= 0");
  if (o.duration <= Time::zero()) return invalid_input("window duration must be > 0");
  if (!(o.rate_scale >= 1e-6 && o.rate_scale <= 1e6)) {
    return invalid_input("rate_scale must be in [1e-6, 1e6], got " + format_shortest(o.rate_scale));
  }
  if (o.max_prompt_tokens < 0) return invalid_input("max_prompt_tokens must be >= 0 (0: no cap)");
  MLSYS_RETURN_IF_ERROR(parse_client_rule(o.clients));
  return ok_status();
}

bool is_jsonl_name(std::string_view name) {
  return ends_with(name, ".jsonl") || ends_with(name, ".jsonl.gz");
}
bool is_csv_name(std::string_view name) { return ends_with(name, ".csv") || ends_with(name, ".csv.gz"); }

}  // namespace

// ---------------------------------------------------------------------------------------------
// LengthDistribution

Result<LengthDistribution> LengthDistribution::parse(std::string_view spec, std::string_view column) {
  const std::string s(spec);
  auto bad = [&](std::string what) {
    return invalid_input("length distribution '" + s + "': " + std::move(what),
                         std::string("accepted: ") + kDistributionForms);
  };
  const size_t colon = spec.find(':');
  if (colon == std::string_view::npos) return bad("expected KIND:PARAMETERS");
  const std::string_view kind = spec.substr(0, colon);
  const std::string_view body = spec.substr(colon + 1);
  LengthDistribution d;
  d.spec_ = s;
  if (kind == "fixed") {
    const std::optional<int64_t> v = to_int64(body);
    if (!v || *v < 1 || *v > kMaxTokens) return bad("N must be a whole number >= 1");
    d.kind_ = Kind::kFixed;
    d.a_ = static_cast<double>(*v);
  } else if (kind == "uniform") {
    const size_t sep = body.find(':');
    const std::optional<int64_t> lo = to_int64(body.substr(0, sep));
    const std::optional<int64_t> hi =
        sep == std::string_view::npos ? std::nullopt : to_int64(body.substr(sep + 1));
    if (!lo || !hi || *lo < 1 || *hi < *lo || *hi > kMaxTokens)
      return bad("expected uniform:A:B with 1 <= A <= B");
    d.kind_ = Kind::kUniform;
    d.a_ = static_cast<double>(*lo);
    d.b_ = static_cast<double>(*hi);
  } else if (kind == "lognormal" || kind == "zipf") {
    const bool lognormal = kind == "lognormal";
    static const std::vector<std::string> kLognormalKeys = {"mean", "sigma", "max"};
    static const std::vector<std::string> kZipfKeys = {"max", "s"};
    MLSYS_ASSIGN_OR_RETURN(std::vector<Param> params,
                           split_params(spec, body, lognormal ? kLognormalKeys : kZipfKeys, {}));
    std::optional<double> mean, max;
    double sigma = 1.0, s_exp = 1.0;
    for (const Param& p : params) {
      MLSYS_ASSIGN_OR_RETURN(double v, param_number(spec, p));
      if (p.key == "mean") mean = v;
      if (p.key == "sigma") sigma = v;
      if (p.key == "max") max = v;
      if (p.key == "s") s_exp = v;
    }
    if (max && !(*max >= 1 && *max <= static_cast<double>(kMaxTokens))) return bad("max must be >= 1");
    if (lognormal) {
      if (!mean || !(*mean >= 1 && *mean <= static_cast<double>(kMaxTokens)))
        return bad("mean must be given and >= 1");
      if (!(sigma >= 0 && sigma <= 10)) return bad("sigma must be in [0, 10]");
      d.kind_ = Kind::kLognormal;
      // mean is the distribution's mean: E[exp(N(mu, sigma))] = exp(mu + sigma^2 / 2).
      d.a_ = std::log(*mean) - sigma * sigma / 2;
      d.b_ = sigma;
      d.c_ = max ? std::floor(*max) : static_cast<double>(kMaxTokens);
    } else {
      if (!max) return bad("max must be given");
      if (!(s_exp > 0 && s_exp <= 100)) return bad("s must be in (0, 100]");
      d.kind_ = Kind::kZipf;
      d.a_ = std::floor(*max);
      d.b_ = s_exp;
    }
  } else if (kind == "file") {
    const std::optional<std::string> shipped = shipped_file(body);
    const std::string path = shipped ? *shipped : std::string(body);
    if (path.empty()) return bad("expected file:PATH");
    MLSYS_ASSIGN_OR_RETURN(CsvReader csv, open_shipped_or_file(path, shipped.has_value()));
    const bool prompt = column == "prompt";
    std::optional<std::string> col;
    for (const char* c : prompt ? std::array<const char*, 2>{"num_prefill_tokens", "ContextTokens"}
                                : std::array<const char*, 2>{"num_decode_tokens", "GeneratedTokens"}) {
      if (csv.column_index(c)) col = c;
    }
    if (!col) {
      return invalid_input("'" + path + "' has no " + std::string(column) + " length column",
                           prompt ? "expected num_prefill_tokens (Vidur) or ContextTokens (Azure)"
                                  : "expected num_decode_tokens (Vidur) or GeneratedTokens (Azure)",
                           Location{path, 1});
    }
    CsvRow row;
    for (;;) {
      MLSYS_ASSIGN_OR_RETURN(bool more, csv.next(row));
      if (!more) break;
      if (row.size() == 1 && trim_blanks(row[0]).empty()) continue;
      MLSYS_ASSIGN_OR_RETURN(int64_t v, row.get_int64(*col));
      if (v < 1 || v > kMaxTokens) return token_error(*col, v, row.location());
      d.values_.push_back(v);
    }
    if (d.values_.empty()) return invalid_input("'" + path + "' has no rows", "", Location{path, 1});
    d.kind_ = Kind::kFile;
  } else {
    return bad("unknown kind '" + std::string(kind) + "'");
  }
  return d;
}

int64_t LengthDistribution::sample(RngStream& rng) const {
  switch (kind_) {
    case Kind::kFixed:
      return static_cast<int64_t>(a_);
    case Kind::kUniform:
      return rng.uniform_int(static_cast<int64_t>(a_), static_cast<int64_t>(b_));
    case Kind::kLognormal: {
      const double v = std::round(rng.lognormal(a_, b_));
      return static_cast<int64_t>(std::clamp(v, 1.0, c_));
    }
    case Kind::kZipf:
      return rng.zipf(static_cast<int64_t>(a_), b_);
    case Kind::kFile:
      return values_[static_cast<size_t>(rng.uniform_int(0, static_cast<int64_t>(values_.size()) - 1))];
  }
  return 1;
}

// ---------------------------------------------------------------------------------------------

Result<Workload> load_workload(std::string_view spec, const WorkloadOptions& options) {
  MLSYS_RETURN_IF_ERROR(check_options(options));
  const std::string name(spec);
  const size_t colon = spec.find(':');
  const std::string_view head = spec.substr(0, colon);
  if (colon != std::string_view::npos && (head == "poisson" || head == "gamma")) {
    MLSYS_ASSIGN_OR_RETURN(RawTrace raw, generate(spec, head == "gamma", spec.substr(colon + 1), options));
    return finish(std::move(raw), name, options);
  }
  if (const std::optional<std::string> shipped = shipped_file(spec); shipped && spec != "arxiv") {
    MLSYS_ASSIGN_OR_RETURN(CsvReader csv, open_shipped_or_file(*shipped, true));
    MLSYS_ASSIGN_OR_RETURN(RawTrace raw, read_csv_trace(csv, options.skip_bad_rows));
    return finish(std::move(raw), name, options);
  }
  if (is_csv_name(spec)) {
    MLSYS_ASSIGN_OR_RETURN(CsvReader csv, CsvReader::open(name));
    MLSYS_ASSIGN_OR_RETURN(RawTrace raw, read_csv_trace(csv, options.skip_bad_rows));
    return finish(std::move(raw), name, options);
  }
  if (is_jsonl_name(spec)) {
    MLSYS_ASSIGN_OR_RETURN(LineSource lines, LineSource::open(name));
    MLSYS_ASSIGN_OR_RETURN(RawTrace raw, read_jsonl_trace(lines, options.skip_bad_rows));
    return finish(std::move(raw), name, options);
  }
  static const std::vector<std::string> kNames = {"azure-code", "azure-conv", "poisson", "gamma"};
  std::string hint = std::string("accepted: ") + kSpecForms;
  const std::string close = did_you_mean(head, kNames);
  if (!close.empty()) hint = close + "; " + hint;
  return invalid_input("unknown workload '" + name + "'", hint);
}

Result<Workload> parse_workload_text(std::string text, std::string_view name,
                                     const WorkloadOptions& options) {
  MLSYS_RETURN_IF_ERROR(check_options(options));
  if (is_jsonl_name(name)) {
    LineSource lines = LineSource::from_string(std::move(text), std::string(name));
    MLSYS_ASSIGN_OR_RETURN(RawTrace raw, read_jsonl_trace(lines, options.skip_bad_rows));
    return finish(std::move(raw), std::string(name), options);
  }
  if (is_csv_name(name)) {
    MLSYS_ASSIGN_OR_RETURN(CsvReader csv, CsvReader::from_string(std::move(text), std::string(name)));
    MLSYS_ASSIGN_OR_RETURN(RawTrace raw, read_csv_trace(csv, options.skip_bad_rows));
    return finish(std::move(raw), std::string(name), options);
  }
  return invalid_input("cannot tell the format of '" + std::string(name) + "'", "name it *.csv or *.jsonl");
}

}  // namespace mlsys::serve

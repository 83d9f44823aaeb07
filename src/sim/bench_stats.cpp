#include "sim/bench_stats.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>

namespace tillgate::sim {

std::uint64_t nearest_rank_percentile(const std::vector<std::uint64_t>& sorted, double percent) {
  if (sorted.empty()) {
    return 0;
  }
  const double p = std::clamp(percent, 0.0, 100.0);
  // rank = ceil(p/100 * n), 1-based; rank 0 (p = 0) is the minimum.
  const auto n = static_cast<double>(sorted.size());
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * n - 1e-9));
  rank = std::clamp<std::size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

LatencyRecorder::LatencyRecorder(std::size_t max_samples, std::uint64_t seed)
    : max_samples_(std::max<std::size_t>(max_samples, 1)), random_(seed) {}

void LatencyRecorder::record(std::uint64_t micros) {
  ++count_;
  max_ = std::max(max_, micros);
  sum_ += static_cast<long double>(micros);
  if (samples_.size() < max_samples_) {
    samples_.push_back(micros);
    return;
  }
  // Algorithm R: the count_-th sample replaces a kept one with probability max/count.
  std::uniform_int_distribution<std::uint64_t> pick(0, count_ - 1);
  if (const auto slot = pick(random_); slot < max_samples_) {
    samples_[slot] = micros;
  }
}

double LatencyRecorder::mean() const {
  return count_ == 0 ? 0.0 : static_cast<double>(sum_ / static_cast<long double>(count_));
}

std::vector<std::uint64_t> LatencyRecorder::percentiles(const std::vector<double>& percents) const {
  auto sorted = samples_;
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::uint64_t> out;
  out.reserve(percents.size());
  for (const double p : percents) {
    out.push_back(nearest_rank_percentile(sorted, p));
  }
  return out;
}

namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return text;
}

std::optional<std::uint32_t> parse_ipv4(std::string_view text) {
  const std::string copy(text);
  in_addr address{};
  if (::inet_pton(AF_INET, copy.c_str(), &address) != 1) {
    return std::nullopt;
  }
  return ntohl(address.s_addr);
}

bool is_ipv6(std::string_view text) {
  const std::string copy(text);
  in6_addr address{};
  return ::inet_pton(AF_INET6, copy.c_str(), &address) == 1;
}

std::string format_ipv4(std::uint32_t host_order) {
  in_addr address{};
  address.s_addr = htonl(host_order);
  char buffer[INET_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET, &address, buffer, sizeof buffer);
  return buffer;
}

}  // namespace

std::optional<std::vector<std::string>> parse_source_addresses(std::string_view text,
                                                               std::string& error,
                                                               std::size_t max_addresses) {
  std::vector<std::string> out;
  if (trim(text).empty()) {
    error = "no address given";
    return std::nullopt;
  }
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto comma = std::min(text.find(',', start), text.size());
    const auto item = trim(text.substr(start, comma - start));
    start = comma + 1;
    if (item.empty()) {
      error = "empty entry in the address list";
      return std::nullopt;
    }
    const auto dash = item.find('-');
    if (dash == std::string_view::npos) {
      if (parse_ipv4(item)) {
        out.emplace_back(format_ipv4(*parse_ipv4(item)));
      } else if (is_ipv6(item)) {
        out.emplace_back(item);
      } else {
        error = "'" + std::string(item) + "' is not an IP address";
        return std::nullopt;
      }
    } else {
      const auto first = parse_ipv4(trim(item.substr(0, dash)));
      const auto last = parse_ipv4(trim(item.substr(dash + 1)));
      if (!first || !last) {
        error = "'" + std::string(item) + "' is not a range of IPv4 addresses (A.B.C.D-A.B.C.E)";
        return std::nullopt;
      }
      if (*last < *first) {
        error = "range '" + std::string(item) + "' ends before it starts";
        return std::nullopt;
      }
      if (std::uint64_t{*last} - *first + 1 + out.size() > max_addresses) {
        error = "more than " + std::to_string(max_addresses) + " addresses";
        return std::nullopt;
      }
      for (std::uint64_t a = *first; a <= *last; ++a) {
        out.push_back(format_ipv4(static_cast<std::uint32_t>(a)));
      }
    }
    if (out.size() > max_addresses) {
      error = "more than " + std::to_string(max_addresses) + " addresses";
      return std::nullopt;
    }
  }
  return out;
}

namespace {

bool is_name_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}
bool is_name_char(char c) {
  return is_name_start(c) || (c >= '0' && c <= '9');
}

std::optional<double> parse_value(std::string_view text) {
  if (text == "NaN") {
    return std::numeric_limits<double>::quiet_NaN();
  }
  if (text == "+Inf" || text == "Inf") {
    return std::numeric_limits<double>::infinity();
  }
  if (text == "-Inf") {
    return -std::numeric_limits<double>::infinity();
  }
  if (text.empty()) {
    return std::nullopt;
  }
  const std::string copy(text);
  char* end = nullptr;
  const double value = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size()) {
    return std::nullopt;
  }
  return value;
}

// Parses `{a="x",b="y"}` from the start of `rest`; advances `rest` past it.
bool parse_labels(std::string_view& rest, std::map<std::string, std::string>& labels) {
  rest.remove_prefix(1);  // '{'
  for (;;) {
    rest = trim(rest);
    if (rest.empty()) {
      return false;
    }
    if (rest.front() == '}') {
      rest.remove_prefix(1);
      return true;
    }
    std::size_t n = 0;
    while (n < rest.size() && is_name_char(rest[n])) {
      ++n;
    }
    if (n == 0) {
      return false;
    }
    std::string key(rest.substr(0, n));
    rest.remove_prefix(n);
    rest = trim(rest);
    if (rest.size() < 2 || rest[0] != '=' || rest[1] != '"') {
      return false;
    }
    rest.remove_prefix(2);
    std::string value;
    bool closed = false;
    while (!rest.empty()) {
      const char c = rest.front();
      rest.remove_prefix(1);
      if (c == '"') {
        closed = true;
        break;
      }
      if (c == '\\' && !rest.empty()) {
        const char escaped = rest.front();
        rest.remove_prefix(1);
        value.push_back(escaped == 'n' ? '\n' : escaped);
        continue;
      }
      value.push_back(c);
    }
    if (!closed) {
      return false;
    }
    labels[std::move(key)] = std::move(value);
    rest = trim(rest);
    if (!rest.empty() && rest.front() == ',') {
      rest.remove_prefix(1);
    }
  }
}

std::optional<MetricSample> parse_sample_line(std::string_view line) {
  line = trim(line);
  if (line.empty() || line.front() == '#' || !is_name_start(line.front())) {
    return std::nullopt;
  }
  std::size_t n = 0;
  while (n < line.size() && is_name_char(line[n])) {
    ++n;
  }
  MetricSample sample;
  sample.name = std::string(line.substr(0, n));
  auto rest = line.substr(n);
  if (!rest.empty() && rest.front() == '{' && !parse_labels(rest, sample.labels)) {
    return std::nullopt;
  }
  rest = trim(rest);
  const auto space = rest.find_first_of(" \t");
  const auto value = parse_value(rest.substr(0, space));
  if (!value) {
    return std::nullopt;
  }
  sample.value = *value;
  return sample;
}

bool labels_include(const std::map<std::string, std::string>& have,
                    const std::map<std::string, std::string>& want) {
  for (const auto& [key, value] : want) {
    const auto it = have.find(key);
    if (it == have.end() || it->second != value) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::vector<MetricSample> parse_metrics_text(std::string_view text) {
  std::vector<MetricSample> out;
  std::size_t start = 0;
  while (start < text.size()) {
    const auto end = std::min(text.find('\n', start), text.size());
    if (auto sample = parse_sample_line(text.substr(start, end - start))) {
      out.push_back(std::move(*sample));
    }
    start = end + 1;
  }
  return out;
}

std::optional<double> metric_sum(const std::vector<MetricSample>& samples, std::string_view name,
                                 const std::map<std::string, std::string>& labels) {
  std::optional<double> sum;
  for (const auto& sample : samples) {
    if (sample.name == name && labels_include(sample.labels, labels)) {
      sum = sum.value_or(0.0) + sample.value;
    }
  }
  return sum;
}

std::map<std::string, double> metric_by_label(const std::vector<MetricSample>& samples,
                                              std::string_view name, std::string_view label) {
  std::map<std::string, double> out;
  for (const auto& sample : samples) {
    if (sample.name != name) {
      continue;
    }
    const auto it = sample.labels.find(std::string(label));
    out[it == sample.labels.end() ? std::string() : it->second] += sample.value;
  }
  return out;
}

}  // namespace tillgate::sim

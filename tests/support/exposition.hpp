#pragma once
// A strict reader of the Prometheus text exposition format 0.0.4, independent of
// src/metrics, for the tests: every line is parsed (comments, samples, escapes, values)
// and each problem reported with its line number, then the families are checked as a
// scraper would rely on them (HELP and TYPE once and before the samples, sample names of
// the family's type, no series twice, histogram buckets increasing in le and in count,
// ending at +Inf equal to _count). Header-only.
#include <cmath>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tillgate::testing_support {

struct Sample {
  std::string name;
  std::vector<std::pair<std::string, std::string>> labels;  // in order, values unescaped
  double value = 0;
  std::size_t line = 0;

  [[nodiscard]] std::optional<std::string> label(std::string_view key) const {
    for (const auto& [name_, value_] : labels) {
      if (name_ == key) {
        return value_;
      }
    }
    return std::nullopt;
  }
};

struct MetricFamily {
  std::string name;
  std::string type;  // counter, gauge, histogram, summary, untyped
  std::string help;
  std::vector<Sample> samples;
};

struct Exposition {
  std::vector<MetricFamily> families;
  std::vector<std::string> errors;  // "line 12: ..."

  [[nodiscard]] const MetricFamily* family(std::string_view name) const {
    for (const auto& f : families) {
      if (f.name == name) {
        return &f;
      }
    }
    return nullptr;
  }

  // The value of the sample `name` whose labels are exactly `labels` (any order), or nullopt.
  [[nodiscard]] std::optional<double> value(
      std::string_view name, const std::map<std::string, std::string>& labels = {}) const {
    for (const auto& f : families) {
      for (const auto& sample : f.samples) {
        if (sample.name != name || sample.labels.size() != labels.size()) {
          continue;
        }
        bool same = true;
        for (const auto& [key, expected] : labels) {
          same = same && sample.label(key) == expected;
        }
        if (same) {
          return sample.value;
        }
      }
    }
    return std::nullopt;
  }
};

namespace exposition_detail {

inline bool is_name_char(char c, bool first, bool colon) {
  const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  return letter || (colon && c == ':') || (!first && c >= '0' && c <= '9');
}

// Reads a metric (colon allowed) or label name at `pos`; empty when none.
inline std::string read_name(std::string_view line, std::size_t& pos, bool colon) {
  const std::size_t start = pos;
  while (pos < line.size() && is_name_char(line[pos], pos == start, colon)) {
    ++pos;
  }
  return std::string(line.substr(start, pos - start));
}

inline std::optional<double> read_value(std::string_view text) {
  if (text == "+Inf" || text == "Inf") {
    return HUGE_VAL;
  }
  if (text == "-Inf") {
    return -HUGE_VAL;
  }
  if (text == "NaN") {
    return std::nan("");
  }
  if (text.empty()) {
    return std::nullopt;
  }
  const std::string copy(text);
  char* end = nullptr;
  const double value = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size() || copy.find_first_of("xXpP") != std::string::npos ||
      copy == "inf" || copy == "nan") {
    return std::nullopt;
  }
  return value;
}

inline bool base_name_of(const MetricFamily& family, const std::string& sample_name) {
  if (family.type == "histogram") {
    return sample_name == family.name + "_bucket" || sample_name == family.name + "_sum" ||
           sample_name == family.name + "_count";
  }
  if (family.type == "summary") {
    return sample_name == family.name || sample_name == family.name + "_sum" ||
           sample_name == family.name + "_count";
  }
  return sample_name == family.name;
}

}  // namespace exposition_detail

inline Exposition parse_exposition(std::string_view text) {
  using namespace exposition_detail;
  Exposition out;
  const auto fail = [&out](std::size_t line, const std::string& message) {
    out.errors.push_back("line " + std::to_string(line) + ": " + message);
  };
  if (!text.empty() && text.back() != '\n') {
    out.errors.push_back("the text does not end with a newline");
  }
  std::map<std::string, std::size_t> index;  // family name -> position
  std::set<std::string> series_seen;
  std::set<std::string> help_seen;
  std::set<std::string> type_seen;
  std::string current;  // the family of the last HELP/TYPE
  std::size_t number = 0;
  while (!text.empty()) {
    const auto end = text.find('\n');
    const std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    ++number;
    if (line.empty()) {
      continue;
    }
    if (line.front() == '#') {
      std::size_t pos = 1;
      if (line.substr(0, 7) != "# HELP " && line.substr(0, 7) != "# TYPE ") {
        continue;  // another comment
      }
      const bool is_help = line[2] == 'H';
      pos = 7;
      const std::string name = read_name(line, pos, true);
      if (name.empty() || pos >= line.size() || line[pos] != ' ') {
        fail(number, "a HELP/TYPE line needs a metric name and a space");
        continue;
      }
      const std::string rest(line.substr(pos + 1));
      if (!index.contains(name)) {
        index[name] = out.families.size();
        out.families.push_back({name, "untyped", "", {}});
      } else if (current != name) {
        fail(number, "HELP/TYPE of " + name + " away from its family's other lines");
      }
      auto& family = out.families[index[name]];
      if (!family.samples.empty()) {
        fail(number, "HELP/TYPE of " + name + " after its samples");
      }
      current = name;
      if (is_help) {
        if (!help_seen.insert(name).second) {
          fail(number, "a second HELP for " + name);
        }
        for (std::size_t i = 0; i < rest.size(); ++i) {
          if (rest[i] == '\\') {
            if (i + 1 >= rest.size() || (rest[i + 1] != '\\' && rest[i + 1] != 'n')) {
              fail(number, "HELP of " + name + " has an invalid escape");
            }
            ++i;
          }
        }
        family.help = rest;
      } else {
        if (!type_seen.insert(name).second) {
          fail(number, "a second TYPE for " + name);
        }
        static const std::set<std::string> kTypes = {"counter", "gauge", "histogram", "summary",
                                                     "untyped"};
        if (!kTypes.contains(rest)) {
          fail(number, "unknown TYPE '" + rest + "'");
        }
        family.type = rest;
      }
      continue;
    }
    Sample sample;
    sample.line = number;
    std::size_t pos = 0;
    sample.name = read_name(line, pos, true);
    if (sample.name.empty()) {
      fail(number, "a sample must start with a metric name");
      continue;
    }
    bool ok = true;
    std::set<std::string> label_names;
    if (pos < line.size() && line[pos] == '{') {
      ++pos;
      while (ok && pos < line.size() && line[pos] != '}') {
        const std::string label = read_name(line, pos, false);
        if (label.empty() || pos + 1 >= line.size() || line[pos] != '=' || line[pos + 1] != '"') {
          fail(number, "a label must be name=\"value\"");
          ok = false;
          break;
        }
        if (label.starts_with("__")) {
          fail(number, "label " + label + " uses the reserved __ prefix");
        }
        if (!label_names.insert(label).second) {
          fail(number, "label " + label + " twice");
        }
        pos += 2;
        std::string value;
        bool closed = false;
        while (pos < line.size()) {
          const char c = line[pos++];
          if (c == '"') {
            closed = true;
            break;
          }
          if (c == '\\') {
            if (pos >= line.size()) {
              break;
            }
            const char e = line[pos++];
            if (e == '\\' || e == '"') {
              value += e;
            } else if (e == 'n') {
              value += '\n';
            } else {
              fail(number, std::string("invalid escape \\") + e + " in a label value");
              ok = false;
            }
          } else {
            value += c;
          }
        }
        if (!closed) {
          fail(number, "unterminated label value");
          ok = false;
          break;
        }
        sample.labels.emplace_back(label, std::move(value));
        if (pos < line.size() && line[pos] == ',') {
          ++pos;
        } else if (pos >= line.size() || line[pos] != '}') {
          fail(number, "labels must be separated by ',' and closed by '}'");
          ok = false;
        }
      }
      if (ok && (pos >= line.size() || line[pos] != '}')) {
        fail(number, "labels not closed by '}'");
        ok = false;
      }
      ++pos;
    }
    if (!ok) {
      continue;
    }
    if (pos >= line.size() || line[pos] != ' ') {
      fail(number, "a single space must separate the sample from its value");
      continue;
    }
    ++pos;
    const std::string_view rest = line.substr(pos);
    const auto space = rest.find(' ');
    const auto value = read_value(rest.substr(0, space));
    if (!value) {
      fail(number, "invalid value '" + std::string(rest.substr(0, space)) + "'");
      continue;
    }
    if (space != std::string_view::npos) {
      const auto timestamp = rest.substr(space + 1);
      if (timestamp.empty() || timestamp.find_first_not_of("-0123456789") != std::string::npos) {
        fail(number, "invalid timestamp '" + std::string(timestamp) + "'");
      }
    }
    sample.value = *value;
    // The family: the current one when the name is one of its sample names.
    if (current.empty() || !base_name_of(out.families[index[current]], sample.name)) {
      fail(number, "sample " + sample.name + " outside the family it belongs to (" +
                       (current.empty() ? std::string("none") : current) + ")");
      continue;
    }
    std::string key = sample.name;
    for (const auto& [k, v] : sample.labels) {
      key += "\n" + k + "=" + v;
    }
    if (!series_seen.insert(key).second) {
      fail(number, "series " + sample.name + " appears twice");
    }
    out.families[index[current]].samples.push_back(std::move(sample));
  }
  // Histograms: per label set (le aside), buckets increasing in le and in count, the last
  // +Inf, equal to _count; _sum present.
  for (const auto& family : out.families) {
    if (family.type != "histogram") {
      continue;
    }
    struct Series {
      std::vector<std::pair<double, double>> buckets;  // le, count
      std::optional<double> count;
      bool sum = false;
    };
    std::map<std::string, Series> series;
    for (const auto& sample : family.samples) {
      std::string key;
      for (const auto& [k, v] : sample.labels) {
        if (k != "le") {
          key += k + "=" + v + "\n";
        }
      }
      auto& s = series[key];
      if (sample.name == family.name + "_bucket") {
        const auto le = sample.label("le");
        const auto bound = le ? read_value(*le) : std::nullopt;
        if (!bound) {
          out.errors.push_back(family.name + ": a bucket without a valid le (line " +
                               std::to_string(sample.line) + ")");
          continue;
        }
        if (!s.buckets.empty() && (*bound <= s.buckets.back().first)) {
          out.errors.push_back(family.name + ": le not increasing at line " +
                               std::to_string(sample.line));
        }
        if (!s.buckets.empty() && sample.value < s.buckets.back().second) {
          out.errors.push_back(family.name + ": bucket counts not cumulative at line " +
                               std::to_string(sample.line));
        }
        s.buckets.emplace_back(*bound, sample.value);
      } else if (sample.name == family.name + "_count") {
        s.count = sample.value;
      } else if (sample.name == family.name + "_sum") {
        s.sum = true;
      }
    }
    for (const auto& [key, s] : series) {
      const std::string which = family.name + "{" + key + "}";
      if (s.buckets.empty() || !std::isinf(s.buckets.back().first)) {
        out.errors.push_back(which + ": the last bucket is not le=\"+Inf\"");
      } else if (!s.count || *s.count != s.buckets.back().second) {
        out.errors.push_back(which + ": the +Inf bucket differs from _count");
      }
      if (!s.sum) {
        out.errors.push_back(which + ": no _sum");
      }
    }
  }
  return out;
}

}  // namespace tillgate::testing_support

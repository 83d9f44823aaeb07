#include "metrics/metrics.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

namespace tillgate::metrics {

namespace {

bool is_name_start(char c, bool colon_allowed) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         (colon_allowed && c == ':');
}

bool is_name_char(char c, bool colon_allowed) {
  return is_name_start(c, colon_allowed) || (c >= '0' && c <= '9');
}

bool is_valid_name(std::string_view name, bool colon_allowed) {
  if (name.empty() || !is_name_start(name.front(), colon_allowed)) {
    return false;
  }
  return std::all_of(name.begin(), name.end(),
                     [colon_allowed](char c) { return is_name_char(c, colon_allowed); });
}

// {a="x",b="y"} with `extra` (le="...") last; "" when there is no label at all.
std::string label_text(const std::vector<std::string>& names,
                       const std::vector<std::string>& values, std::string_view extra = {}) {
  if (names.empty() && extra.empty()) {
    return {};
  }
  std::string out = "{";
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) {
      out += ',';
    }
    out += names[i];
    out += "=\"";
    out += escape_label_value(values[i]);
    out += '"';
  }
  if (!extra.empty()) {
    if (!names.empty()) {
      out += ',';
    }
    out += extra;
  }
  out += '}';
  return out;
}

void append_sample(std::string& out, std::string_view name, std::string_view labels,
                   std::string_view value) {
  out += name;
  out += labels;
  out += ' ';
  out += value;
  out += '\n';
}

}  // namespace

// ---- text format ---------------------------------------------------------------------------

bool is_valid_metric_name(std::string_view name) {
  return is_valid_name(name, true);
}

bool is_valid_label_name(std::string_view name) {
  return is_valid_name(name, false) && !name.starts_with("__");
}

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string escape_help(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string format_value(double value) {
  if (std::isnan(value)) {
    return "NaN";
  }
  if (std::isinf(value)) {
    return value > 0 ? "+Inf" : "-Inf";
  }
  // Shortest round trip; plain decimals for 1e-5 <= |value| < 1e21 (le="0.0005", not
  // "5e-04", as people write them in queries), exponent notation outside.
  char buffer[400];
  const double magnitude = std::fabs(value);
  const bool fixed = magnitude == 0 || (magnitude >= 1e-5 && magnitude < 1e21);
  const auto result =
      fixed ? std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::fixed)
            : std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::scientific);
  return std::string(buffer, result.ptr);
}

// ---- metrics -------------------------------------------------------------------------------

void CallbackGauge::set_source(std::function<double()> source) {
  const std::lock_guard lock(mutex_);
  source_ = std::move(source);
}

double CallbackGauge::value() const {
  const std::lock_guard lock(mutex_);
  return source_ ? source_() : 0.0;
}

Histogram::Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)) {
  for (std::size_t i = 0; i < bounds_.size(); ++i) {
    if (!std::isfinite(bounds_[i]) || (i > 0 && bounds_[i] <= bounds_[i - 1])) {
      throw std::invalid_argument("histogram bounds must be finite and strictly increasing");
    }
  }
  buckets_ = std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1);
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    buckets_[i].store(0, std::memory_order_relaxed);
  }
}

void Histogram::observe(double value) {
  if (std::isnan(value)) {
    return;
  }
  // The first bound >= value: "le" is inclusive.
  const auto index = static_cast<std::size_t>(
      std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin());
  buckets_[index].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot snapshot;
  snapshot.cumulative.reserve(bounds_.size() + 1);
  std::uint64_t running = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    snapshot.cumulative.push_back(running);
  }
  snapshot.count = running;
  snapshot.sum = sum_.load(std::memory_order_relaxed);
  return snapshot;
}

std::vector<double> exponential_buckets(double start, double factor, int count) {
  if (start <= 0 || factor <= 1 || count < 1) {
    throw std::invalid_argument("exponential buckets need start > 0, factor > 1, count >= 1");
  }
  std::vector<double> bounds;
  double bound = start;
  for (int i = 0; i < count; ++i) {
    bounds.push_back(bound);
    bound *= factor;
  }
  return bounds;
}

// ---- registry ------------------------------------------------------------------------------

struct Registry::Entry {
  std::string name;
  std::string help;
  std::string_view type;  // counter, gauge, histogram
  std::unique_ptr<Family<Counter>> counters;
  std::unique_ptr<Family<Gauge>> gauges;
  std::unique_ptr<CallbackGauge> callback;
  std::unique_ptr<Family<Histogram>> histograms;
};

Registry::Registry(std::size_t max_series) : max_series_(max_series) {}

Registry::~Registry() = default;

Registry::Entry& Registry::add(std::string name, std::string help, std::string_view type,
                               const std::vector<std::string>& label_names) {
  if (!is_valid_metric_name(name)) {
    throw std::invalid_argument("invalid metric name '" + name + "'");
  }
  for (const auto& label : label_names) {
    if (!is_valid_label_name(label) || (type == "histogram" && label == "le")) {
      throw std::invalid_argument("metric " + name + ": invalid label name '" + label + "'");
    }
    if (std::count(label_names.begin(), label_names.end(), label) > 1) {
      throw std::invalid_argument("metric " + name + ": label '" + label + "' twice");
    }
  }
  const std::lock_guard lock(mutex_);
  for (const auto& entry : entries_) {
    if (entry->name == name) {
      throw std::invalid_argument("metric " + name + " is registered twice");
    }
  }
  auto entry = std::make_unique<Entry>();
  entry->name = std::move(name);
  entry->help = std::move(help);
  entry->type = type;
  entries_.push_back(std::move(entry));
  return *entries_.back();
}

Family<Counter>& Registry::counter_family(std::string name, std::string help,
                                          std::vector<std::string> label_names) {
  auto& entry = add(std::move(name), std::move(help), "counter", label_names);
  entry.counters = std::make_unique<Family<Counter>>(std::move(label_names), max_series_,
                                                     [] { return std::make_unique<Counter>(); });
  return *entry.counters;
}

Counter& Registry::counter(std::string name, std::string help) {
  return counter_family(std::move(name), std::move(help), {}).with({});
}

Family<Gauge>& Registry::gauge_family(std::string name, std::string help,
                                      std::vector<std::string> label_names) {
  auto& entry = add(std::move(name), std::move(help), "gauge", label_names);
  entry.gauges = std::make_unique<Family<Gauge>>(std::move(label_names), max_series_,
                                                 [] { return std::make_unique<Gauge>(); });
  return *entry.gauges;
}

Gauge& Registry::gauge(std::string name, std::string help) {
  return gauge_family(std::move(name), std::move(help), {}).with({});
}

CallbackGauge& Registry::callback_gauge(std::string name, std::string help) {
  auto& entry = add(std::move(name), std::move(help), "gauge", {});
  entry.callback = std::make_unique<CallbackGauge>();
  return *entry.callback;
}

CallbackGauge& Registry::callback_counter(std::string name, std::string help) {
  auto& entry = add(std::move(name), std::move(help), "counter", {});
  entry.callback = std::make_unique<CallbackGauge>();
  return *entry.callback;
}

Family<Histogram>& Registry::histogram_family(std::string name, std::string help,
                                              std::vector<std::string> label_names,
                                              std::vector<double> bounds) {
  (void)Histogram(bounds);  // checks the bounds before anything is registered
  auto& entry = add(std::move(name), std::move(help), "histogram", label_names);
  entry.histograms = std::make_unique<Family<Histogram>>(
      std::move(label_names), max_series_,
      [bounds = std::move(bounds)] { return std::make_unique<Histogram>(bounds); });
  return *entry.histograms;
}

Histogram& Registry::histogram(std::string name, std::string help, std::vector<double> bounds) {
  return histogram_family(std::move(name), std::move(help), {}, std::move(bounds)).with({});
}

std::string Registry::render() const {
  std::string out;
  const std::lock_guard lock(mutex_);
  for (const auto& entry : entries_) {
    const std::string& name = entry->name;
    out += "# HELP " + name + ' ' + escape_help(entry->help) + '\n';
    out += "# TYPE " + name + ' ' + std::string(entry->type) + '\n';
    if (entry->counters) {
      const auto& names = entry->counters->label_names();
      entry->counters->for_each([&](const std::vector<std::string>& values, const Counter& c) {
        append_sample(out, name, label_text(names, values), std::to_string(c.value()));
      });
    } else if (entry->gauges) {
      const auto& names = entry->gauges->label_names();
      entry->gauges->for_each([&](const std::vector<std::string>& values, const Gauge& g) {
        append_sample(out, name, label_text(names, values), format_value(g.value()));
      });
    } else if (entry->callback) {
      append_sample(out, name, "", format_value(entry->callback->value()));
    } else if (entry->histograms) {
      const auto& names = entry->histograms->label_names();
      const std::string bucket = name + "_bucket";
      entry->histograms->for_each([&](const std::vector<std::string>& values,
                                      const Histogram& histogram) {
        const auto snapshot = histogram.snapshot();
        const auto& bounds = histogram.bounds();
        for (std::size_t i = 0; i <= bounds.size(); ++i) {
          const std::string le =
              "le=\"" + (i < bounds.size() ? format_value(bounds[i]) : std::string("+Inf")) + '"';
          append_sample(out, bucket, label_text(names, values, le),
                        std::to_string(snapshot.cumulative[i]));
        }
        const std::string labels = label_text(names, values);
        append_sample(out, name + "_sum", labels, format_value(snapshot.sum));
        append_sample(out, name + "_count", labels, std::to_string(snapshot.count));
      });
    }
  }
  return out;
}

}  // namespace tillgate::metrics

// kappa report: reads metrics files (tools/cli/metrics_recorder.h: JSON lines, one sample each)
// and writes one HTML page that holds everything it needs: the samples as JSON, the script that
// draws them as SVG charts (throughput, lag, latency percentiles over time, one line per
// series), and a summary table. No file or network access when it is opened.
#include "tools/report_command.h"

#include <fcntl.h>
#include <simdjson.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "base/files.h"
#include "tools/cli/args.h"
#include "tools/cli/text.h"

namespace kappa::tools {
namespace {

constexpr char kReportUsage[] =
    "Usage: kappa report FILE... [--output HTML] [--title TEXT]\n"
    "\n"
    "Renders the measurements that 'kappa run --metrics-out FILE' and 'kappa tour --metrics-out\n"
    "FILE' wrote as one self-contained HTML page (no file or network access when opened): charts\n"
    "of throughput, lag and latency percentiles (p50, p99, p99.9) over time, one line per query\n"
    "(and per file, given several), and a table of each query's figures. Prints the page's\n"
    "path.\n"
    "\n"
    "Options:\n"
    "  --output HTML   where the page goes (default: the first FILE with .html in place of its\n"
    "                  extension); an existing file is replaced, never through a symbolic link\n"
    "  --title TEXT    the page's title (default \"kappa report\")\n";

// The metrics a page charts, in order: member, title, unit.
struct Chart {
  const char* metric;
  const char* title;
  const char* unit;  // "rate", "bytes" or "ns": how the script writes the axis
};
constexpr Chart kCharts[] = {
    {"records_per_s", "Throughput", "rate"},
    {"lag_bytes", "Lag behind the log's end", "bytes"},
    {"latency_p50_ns", "Latency p50 (append to view)", "ns"},
    {"latency_p99_ns", "Latency p99 (append to view)", "ns"},
    {"latency_p999_ns", "Latency p99.9 (append to view)", "ns"},
};

struct Series {
  std::string name;
  std::vector<std::int64_t> t_ns;
  std::map<std::string, std::vector<double>> values;  // by metric, one per sample
};

std::string FileStem(const std::string& path) {
  const std::size_t slash = path.rfind('/');
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  const std::size_t dot = name.rfind('.');
  return dot == std::string::npos || dot == 0 ? name : name.substr(0, dot);
}

// Reads one metrics file into `series` (keyed by their names).
void ReadFile(const std::string& path, const std::string& prefix,
              std::map<std::string, Series>* series) {
  auto text = base::ReadOwnFile(path);
  if (!text.ok()) {
    // Not only this user's files: a report of someone else's measurements is fine.
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) throw CommandError(path + ": " + std::strerror(errno));
    std::string all;
    char buf[65536];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) all.append(buf, n);
    std::fclose(f);
    text = std::move(all);
  }
  simdjson::dom::parser parser;
  std::size_t line_number = 0;
  std::size_t samples = 0;
  for (std::size_t at = 0; at < text->size();) {
    std::size_t end = text->find('\n', at);
    if (end == std::string::npos) end = text->size();
    const std::string line = text->substr(at, end - at);
    at = end + 1;
    ++line_number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = path + ":" + std::to_string(line_number) + ": ";
    simdjson::dom::element doc;
    if (auto e = parser.parse(line).get(doc))
      throw CommandError(where + "not JSON: " + simdjson::error_message(e));
    simdjson::dom::object sample;
    if (doc.get_object().get(sample))
      throw CommandError(where + "not a JSON object (a line of --metrics-out)");
    std::int64_t t = 0;
    std::string_view source;
    std::string_view name;
    if (sample["t_ns"].get_int64().get(t) || sample["series"].get_string().get(name))
      throw CommandError(where + "a sample needs \"t_ns\" (an integer) and \"series\" (a string)");
    if (sample["source"].get_string().get(source)) source = "";
    std::string key =
        prefix + (source.empty() ? "" : std::string(source) + " ") + std::string(name);
    Series& s = (*series)[key];
    s.name = key;
    const std::size_t index = s.t_ns.size();
    s.t_ns.push_back(t);
    for (const simdjson::dom::key_value_pair member : sample) {
      double v;
      if (member.value.get_double().get(v)) continue;  // strings: "source", "series"
      if (member.key == "t_ns") continue;
      std::vector<double>& column = s.values[std::string(member.key)];
      column.resize(index, 0);  // a metric that starts later: zeros before it
      column.push_back(v);
    }
    for (auto& [metric, column] : s.values)
      column.resize(index + 1, column.empty() ? 0 : column.back());
    ++samples;
  }
  if (samples == 0) throw CommandError(path + ": no samples (is it a --metrics-out file?)");
}

// `text` for HTML text and attribute values.
std::string Html(std::string_view text) {
  std::string out;
  for (const char c : text) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// JSON inside a <script> element: '<' written as \u003c, so that no "</script>" can end it.
std::string ScriptSafe(const std::string& json) {
  std::string out;
  for (const char c : json) {
    if (c == '<') {
      out += "\\u003c";
    } else {
      out += c;
    }
  }
  return out;
}

void AppendNumbers(const std::vector<double>& values, std::string* out) {
  out->push_back('[');
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out->push_back(',');
    AppendJsonDouble(values[i], out);
  }
  out->push_back(']');
}

std::string Summary(const std::map<std::string, Series>& series) {
  std::string rows;
  for (const auto& [name, s] : series) {
    auto column = [&](const char* metric) -> const std::vector<double>* {
      const auto it = s.values.find(metric);
      return it == s.values.end() ? nullptr : &it->second;
    };
    auto max_of = [&](const char* metric) {
      const std::vector<double>* c = column(metric);
      return c == nullptr || c->empty() ? 0.0 : *std::max_element(c->begin(), c->end());
    };
    const std::vector<double>* records = column("records_in");
    const double seconds = static_cast<double>(s.t_ns.back() - s.t_ns.front()) * 1e-9;
    rows +=
        "<tr><td>" + Html(name) + "</td><td>" + std::to_string(s.t_ns.size()) + "</td><td>" +
        FormatDuration(static_cast<std::int64_t>(seconds * 1e9)) + "</td><td>" +
        (records && !records->empty() ? std::to_string(static_cast<std::uint64_t>(records->back()))
                                      : "-") +
        "</td><td>" + FormatDouble(max_of("records_per_s")) + "</td><td>" +
        FormatBytes(static_cast<std::uint64_t>(max_of("lag_bytes"))) + "</td><td>" +
        FormatDuration(static_cast<std::int64_t>(max_of("latency_p99_ns"))) + "</td><td>" +
        FormatDuration(static_cast<std::int64_t>(max_of("latency_max_ns"))) + "</td></tr>\n";
  }
  return "<table><tr><th>series</th><th>samples</th><th>span</th><th>records</th>"
         "<th>peak records/s</th><th>peak lag</th><th>worst p99</th><th>worst max</th></tr>\n" +
         rows + "</table>\n";
}

// The page's script: draws one SVG chart per entry of data.charts, one polyline per series,
// with axes and a legend; window errors are noted on the body (data-errors) for tests and
// shown on the page.
constexpr char kScript[] = R"JS(
(function () {
  "use strict";
  var errors = [];
  window.addEventListener("error", function (e) {
    errors.push(String(e.message));
    document.body.setAttribute("data-errors", errors.join("; "));
  });
  var data = JSON.parse(document.getElementById("kappa-data").textContent);
  var NS = "http://www.w3.org/2000/svg";
  var colors = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
                "#7f7f7f", "#bcbd22", "#17becf"];
  function el(name, attrs, parent) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }
  function fmt(v, unit) {
    var units = unit === "ns" ? [[1e9, " s"], [1e6, " ms"], [1e3, " us"], [1, " ns"]]
              : unit === "bytes" ? [[1073741824, " GiB"], [1048576, " MiB"], [1024, " KiB"], [1, " B"]]
              : [[1e9, "G"], [1e6, "M"], [1e3, "K"], [1, ""]];
    for (var i = 0; i < units.length; ++i)
      if (Math.abs(v) >= units[i][0] || i === units.length - 1)
        return +(v / units[i][0]).toPrecision(3) + units[i][1];
  }
  var t0 = Infinity, t1 = -Infinity;
  data.series.forEach(function (s) {
    s.t.forEach(function (t) { t0 = Math.min(t0, t); t1 = Math.max(t1, t); });
  });
  var span = Math.max((t1 - t0) / 1e9, 1e-3);
  var W = 760, H = 260, L = 70, R = 20, T = 30, B = 40;
  var root = document.getElementById("charts");
  var drawn = 0;
  data.charts.forEach(function (chart) {
    var lines = data.series.filter(function (s) { return s.m[chart.metric]; });
    if (lines.length === 0) return;
    var ymax = 0;
    lines.forEach(function (s) { s.m[chart.metric].forEach(function (v) { ymax = Math.max(ymax, v || 0); }); });
    if (ymax <= 0) ymax = 1;
    var svg = el("svg", {width: W, height: H, viewBox: "0 0 " + W + " " + H, "class": "chart",
                         "data-metric": chart.metric, "data-series": lines.length});
    el("text", {x: L, y: 18, "class": "title"}, svg).textContent = chart.title;
    for (var i = 0; i <= 4; ++i) {
      var y = T + (H - T - B) * (1 - i / 4);
      el("line", {x1: L, x2: W - R, y1: y, y2: y, "class": "grid"}, svg);
      el("text", {x: L - 6, y: y + 4, "class": "tick", "text-anchor": "end"}, svg).textContent =
          fmt(ymax * i / 4, chart.unit);
      var x = L + (W - L - R) * i / 4;
      el("text", {x: x, y: H - B + 16, "class": "tick", "text-anchor": "middle"}, svg).textContent =
          (span * i / 4).toPrecision(3) + " s";
    }
    lines.forEach(function (s, n) {
      var points = s.t.map(function (t, k) {
        var x = L + (W - L - R) * ((t - t0) / 1e9) / span;
        var y = T + (H - T - B) * (1 - (s.m[chart.metric][k] || 0) / ymax);
        return x.toFixed(1) + "," + y.toFixed(1);
      });
      el("polyline", {points: points.join(" "), "class": "series", stroke: colors[n % colors.length],
                      "data-name": s.name}, svg);
      var ly = T + 14 * n;
      el("rect", {x: W - R - 150, y: ly - 8, width: 10, height: 10, fill: colors[n % colors.length]}, svg);
      el("text", {x: W - R - 136, y: ly + 1, "class": "legend"}, svg).textContent = s.name;
    });
    root.appendChild(svg);
    ++drawn;
  });
  document.body.setAttribute("data-charts", String(drawn));
})();
)JS";

constexpr char kStyle[] = R"CSS(
body { font: 14px system-ui, sans-serif; margin: 24px; color: #222; }
h1 { font-size: 20px; } p.meta { color: #555; }
svg.chart { display: block; margin: 12px 0; background: #fafafa; border: 1px solid #ddd; }
svg .title { font-weight: 600; font-size: 13px; } svg .tick, svg .legend { font-size: 11px; fill: #444; }
svg .grid { stroke: #e4e4e4; } svg .series { fill: none; stroke-width: 1.6; }
table { border-collapse: collapse; margin-top: 16px; }
td, th { border: 1px solid #ddd; padding: 4px 8px; text-align: right; } td:first-child, th:first-child { text-align: left; }
)CSS";

int ReportCommand(const Args& args) {
  const std::vector<std::string>& files = args.positionals();
  if (files.empty()) throw args.Error("no FILE given (a file 'kappa run --metrics-out' wrote)");
  const std::string title = args.GetString("--title", "kappa report");
  std::string output = args.GetString("--output", "");
  if (output.empty()) {
    const std::string& first = files[0];
    const std::size_t slash = first.rfind('/');
    const std::size_t dot = first.rfind('.');
    output = (dot != std::string::npos && (slash == std::string::npos || dot > slash + 1)
                  ? first.substr(0, dot)
                  : first) +
             ".html";
  }
  std::map<std::string, Series> series;
  for (const std::string& file : files)
    ReadFile(file, files.size() > 1 ? FileStem(file) + ": " : "", &series);

  std::string json = "{\"charts\":[";
  for (std::size_t i = 0; i < std::size(kCharts); ++i) {
    json += i ? ",{" : "{";
    json += "\"metric\":\"" + std::string(kCharts[i].metric) + "\",\"title\":";
    AppendJsonString(kCharts[i].title, &json);
    json += ",\"unit\":\"" + std::string(kCharts[i].unit) + "\"}";
  }
  json += "],\"series\":[";
  bool first = true;
  std::int64_t t_min = INT64_MAX, t_max = INT64_MIN;
  for (const auto& [name, s] : series) {
    json += first ? "{" : ",{";
    first = false;
    json += "\"name\":";
    AppendJsonString(name, &json);
    json += ",\"t\":[";
    for (std::size_t i = 0; i < s.t_ns.size(); ++i) {
      json += (i ? "," : "") + std::to_string(s.t_ns[i]);
      t_min = std::min(t_min, s.t_ns[i]);
      t_max = std::max(t_max, s.t_ns[i]);
    }
    json += "],\"m\":{";
    bool first_metric = true;
    for (const auto& [metric, column] : s.values) {
      json += first_metric ? "" : ",";
      first_metric = false;
      AppendJsonString(metric, &json);
      json += ":";
      AppendNumbers(column, &json);
    }
    json += "}}";
  }
  json += "]}";

  std::string page =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>" + Html(title) +
      "</title>\n<style>" + kStyle + "</style></head>\n<body>\n<h1>" + Html(title) +
      "</h1>\n<p class=\"meta\">" + std::to_string(series.size()) + " series from " +
      Html(files.size() == 1 ? files[0] : std::to_string(files.size()) + " files") + ", " +
      FormatUtcTime(t_min) + " to " + FormatUtcTime(t_max) +
      ". Latency: from a record's append to the log to its result in the view, over "
      "each publish interval (about 200 ms).</p>\n<div id=\"charts\"></div>\n" +
      Summary(series) + "<script id=\"kappa-data\" type=\"application/json\">" + ScriptSafe(json) +
      "</script>\n<script>" + kScript + "</script>\n</body></html>\n";

  const int fd =
      ::open(output.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0)
    throw CommandError(output + ": " + std::strerror(errno) +
                       (errno == ELOOP ? " (a symbolic link: not followed)" : ""));
  for (std::size_t done = 0; done < page.size();) {
    const ssize_t n = ::write(fd, page.data() + done, page.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int error = errno;
      ::close(fd);
      throw CommandError(output + ": " + std::strerror(error));
    }
    done += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0) throw CommandError(output + ": " + std::strerror(errno));
  std::printf("%s: %zu series, %zu charts\n", output.c_str(), series.size(), std::size(kCharts));
  return 0;
}

}  // namespace

std::vector<Command> ReportCommands() {
  return {{"report",
           "FILE...",
           "render --metrics-out measurements as an HTML page of charts",
           kReportUsage,
           {"--output", "--title"},
           {},
           ReportCommand}};
}

}  // namespace kappa::tools

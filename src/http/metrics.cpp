// src/http/metrics.cpp — goro::read_metrics in Prometheus' text exposition
// format (version 0.0.4), what C++ services are scraped with today:
//
//   # HELP goro_goroutines Goroutines that exist now.
//   # TYPE goro_goroutines gauge
//   goro_goroutines 12
//   ...
//   goro_run_queue_length{queue="p0"} 3
//   goro_sched_latency_seconds_bucket{le="1e-06"} 410
#include <cstdio>
#include <string>

#include "goro/http.hpp"
#include "goro/metrics.hpp"

namespace goro::http {

namespace {

template <class T>
void metric(std::string& out, const char* name, const char* type, const char* help, T value) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
  out += name;
  out += ' ';
  out += std::to_string(value);
  out += '\n';
}

std::string exposition(const goro::metrics& m) {
  std::string out;
  metric(out, "goro_goroutines", "gauge", "Goroutines that exist now.", m.goroutines);
  metric(out, "goro_goroutines_created_total", "counter", "Goroutines started since the runtime began.",
         m.goroutines_created);
  metric(out, "goro_processors", "gauge", "Processors running goroutines (GOMAXPROCS).", m.processors);
  metric(out, "goro_threads", "gauge", "OS threads the runtime started.", m.threads);
  metric(out, "goro_runnable_goroutines", "gauge", "Goroutines waiting in run queues.", m.runnable);
  out += "# HELP goro_run_queue_length Goroutines waiting in each run queue.\n# TYPE goro_run_queue_length gauge\n";
  out += "goro_run_queue_length{queue=\"global\"} " + std::to_string(m.global_run_queue) + '\n';
  for (std::size_t i = 0; i < m.run_queues.size(); ++i)
    out += "goro_run_queue_length{queue=\"p" + std::to_string(i) + "\"} " + std::to_string(m.run_queues[i]) + '\n';
  out += "# HELP goro_stack_bytes Goroutine stack reservations by state.\n# TYPE goro_stack_bytes gauge\n";
  out += "goro_stack_bytes{state=\"in_use\"} " + std::to_string(m.stack_bytes_in_use) + '\n';
  out += "goro_stack_bytes{state=\"pooled\"} " + std::to_string(m.stack_bytes_pooled) + '\n';
  out += "goro_stack_bytes{state=\"released\"} " + std::to_string(m.stack_bytes_released) + '\n';
  metric(out, "goro_timers_pending", "gauge", "Timers, sleeps and deadlines waiting to fire.", m.timers_pending);
  metric(out, "goro_poller_waiters", "gauge", "Goroutines parked on the network poller.", m.poller_waiters);
  metric(out, "goro_blocking_calls", "gauge", "goro::blocking calls in flight.", m.blocking_calls);
  // A Prometheus histogram: cumulative buckets, then the sum and the count.
  const metrics_histogram& h = m.sched_latency;
  out +=
      "# HELP goro_sched_latency_seconds Time goroutines waited runnable before running (sampled).\n"
      "# TYPE goro_sched_latency_seconds histogram\n";
  std::uint64_t cum = 0;
  char num[64];
  for (std::size_t i = 0; i < h.counts.size(); ++i) {
    cum += h.counts[i];
    if (i < h.bounds.size()) std::snprintf(num, sizeof num, "%g", h.bounds[i]);
    else std::snprintf(num, sizeof num, "+Inf");
    out += "goro_sched_latency_seconds_bucket{le=\"";
    out += num;
    out += "\"} " + std::to_string(cum) + '\n';
  }
  std::snprintf(num, sizeof num, "%.9f", h.sum);
  out += "goro_sched_latency_seconds_sum ";
  out += num;
  out += "\ngoro_sched_latency_seconds_count " + std::to_string(h.count) + '\n';
  return out;
}

}  // namespace

handler metrics_handler() {
  return [](response_writer& w, request&) {
    w.header().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    w.write(exposition(goro::read_metrics()));
  };
}

}  // namespace goro::http

// What a Kafka client of kappa's needs to reach the cluster: the brokers, librdkafka settings
// passed through as they are (security, timeouts, batching), and how long to wait for the first
// contact before giving up with a clear error.
//
// Thread safety: a plain value.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace kappa::kafka {

struct ClientOptions {
  std::string brokers;  // "host:port[,host:port...]" (librdkafka's bootstrap.servers)
  // librdkafka configuration properties ("security.protocol", "sasl.username", "linger.ms"),
  // applied after kappa's own defaults, so that they may override them (but not the settings
  // exactly-once depends on: the call that takes them says which).
  std::vector<std::pair<std::string, std::string>> conf;
  // How long the first metadata request may take before the brokers count as unreachable.
  std::chrono::milliseconds connect_timeout{10000};
};

}  // namespace kappa::kafka

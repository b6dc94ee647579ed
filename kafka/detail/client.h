// librdkafka handles for kappa's clients: configuration from ClientOptions (an error names the
// property librdkafka refused), RAII owners, and the first-contact check that turns "no broker
// answers" and "no such topic" into errors a user can act on.
//
// Thread safety: as librdkafka's (handles are thread-safe; a Conf is for one thread).
#pragma once

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "kafka/client.h"

namespace kappa::kafka::detail {

struct HandleDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
using Handle = std::unique_ptr<rd_kafka_t, HandleDeleter>;

struct ConfDeleter {
  void operator()(rd_kafka_conf_t* conf) const { rd_kafka_conf_destroy(conf); }
};
using Conf = std::unique_ptr<rd_kafka_conf_t, ConfDeleter>;

struct PartitionListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* list) const {
    rd_kafka_topic_partition_list_destroy(list);
  }
};
using PartitionList = std::unique_ptr<rd_kafka_topic_partition_list_t, PartitionListDeleter>;

// `defaults`, then options.conf, then `required` (which options.conf may not change: an error
// names the property), with bootstrap.servers from options.brokers.
base::Result<Conf> MakeConf(const ClientOptions& options,
                            const std::vector<std::pair<std::string, std::string>>& defaults,
                            const std::vector<std::pair<std::string, std::string>>& required);

// Creates the client; takes `conf` on success.
base::Result<Handle> MakeHandle(rd_kafka_type_t type, Conf conf);

// The partition count of `topic`, asking the brokers; errors when none answers within
// options.connect_timeout or the topic does not exist.
base::Result<std::int32_t> TopicPartitions(rd_kafka_t* rk, const ClientOptions& options,
                                           const std::string& topic);

std::string ErrorText(rd_kafka_resp_err_t err);

// Whether a librdkafka log line is worth passing on: warnings and errors, except the warning that
// a setting kappa relies on is experimental.
bool WorthSaying(int level, const char* facility, const char* text);

}  // namespace kappa::kafka::detail

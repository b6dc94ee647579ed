#include "kafka/detail/client.h"

#include <algorithm>
#include <cctype>
#include <cstring>

namespace kappa::kafka::detail {

using base::Result;
using base::Status;
using base::StatusCode;

std::string ErrorText(rd_kafka_resp_err_t err) { return rd_kafka_err2str(err); }

bool WorthSaying(int level, const char* facility, const char* text) {
  if (level > 4) return false;  // notices, information and debugging
  // kappa sets it on purpose; librdkafka warns that it is experimental.
  return !(std::strcmp(facility, "CONFWARN") == 0 &&
           std::strstr(text, "enable.gapless.guarantee") != nullptr);
}

Result<Conf> MakeConf(const ClientOptions& options,
                      const std::vector<std::pair<std::string, std::string>>& defaults,
                      const std::vector<std::pair<std::string, std::string>>& required) {
  if (options.brokers.empty())
    return Status::Error(StatusCode::kInvalidArgument, "no Kafka brokers given (host:port)");
  Conf conf(rd_kafka_conf_new());
  char error[512];
  auto set = [&](const std::string& key, const std::string& value) -> Status {
    if (rd_kafka_conf_set(conf.get(), key.c_str(), value.c_str(), error, sizeof error) !=
        RD_KAFKA_CONF_OK)
      return Status::Error(StatusCode::kInvalidArgument,
                           "Kafka setting " + key + "=" + value + ": " + error);
    return Status::Ok();
  };
  std::vector<std::pair<std::string, std::string>> all = {{"bootstrap.servers", options.brokers}};
  all.insert(all.end(), defaults.begin(), defaults.end());
  for (const auto& [key, value] : options.conf) {
    auto fixed = std::find_if(required.begin(), required.end(),
                              [&](const auto& r) { return r.first == key; });
    if (key == "bootstrap.servers" || (fixed != required.end() && fixed->second != value))
      return Status::Error(StatusCode::kInvalidArgument,
                           "Kafka setting " + key + " cannot be changed here" +
                               (fixed != required.end() ? " (kappa needs " + key + "=" +
                                                              fixed->second + " for exactly once)"
                                                        : " (use the brokers option)"));
    all.emplace_back(key, value);
  }
  all.insert(all.end(), required.begin(), required.end());
  for (const auto& [key, value] : all)
    if (Status s = set(key, value); !s.ok()) return s;
  return conf;
}

Result<Handle> MakeHandle(rd_kafka_type_t type, Conf conf) {
  char error[512];
  rd_kafka_t* rk = rd_kafka_new(type, conf.get(), error, sizeof error);
  if (rk == nullptr)
    return Status::Error(StatusCode::kInvalidArgument,
                         std::string("cannot create a Kafka client: ") + error);
  conf.release();  // rd_kafka_new took it
  return Handle(rk);
}

Result<std::int32_t> TopicPartitions(rd_kafka_t* rk, const ClientOptions& options,
                                     const std::string& topic) {
  auto legal = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
  };
  if (topic.empty() || topic.size() > 249 || topic == "." || topic == ".." ||
      !std::all_of(topic.begin(), topic.end(), legal))
    return Status::Error(
        StatusCode::kInvalidArgument,
        "bad Kafka topic name '" + topic + "': use 1 to 249 of A-Z a-z 0-9 . _ - (not . or ..)");
  // All topics' metadata rather than this one's: asking for one topic makes a broker that
  // auto-creates topics create it, and a misspelt name would pass for a new, empty topic.
  const rd_kafka_metadata_t* metadata = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 1, nullptr, &metadata,
                                              static_cast<int>(options.connect_timeout.count()));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
    return Status::Error(StatusCode::kIoError, "no Kafka broker of " + options.brokers +
                                                   " answered within " +
                                                   std::to_string(options.connect_timeout.count()) +
                                                   " ms (" + ErrorText(err) + ")");
  Result<std::int32_t> result =
      Status::Error(StatusCode::kNotFound, "Kafka topic '" + topic + "' does not exist on " +
                                               options.brokers + " (create it first)");
  for (int i = 0; i < metadata->topic_cnt; ++i) {
    const rd_kafka_metadata_topic_t& t = metadata->topics[i];
    if (topic != t.topic) continue;
    if (t.err == RD_KAFKA_RESP_ERR_NO_ERROR && t.partition_cnt > 0)
      result = static_cast<std::int32_t>(t.partition_cnt);
    else if (t.err != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART &&
             t.err != RD_KAFKA_RESP_ERR_NO_ERROR)
      result =
          Status::Error(StatusCode::kIoError, "Kafka topic '" + topic + "': " + ErrorText(t.err));
  }
  rd_kafka_metadata_destroy(metadata);
  return result;
}

}  // namespace kappa::kafka::detail

// MockCluster: librdkafka's mock Kafka cluster, listening on loopback for the length of a test.
#pragma once

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <cstdint>
#include <string>
#include <vector>

namespace kappa::testing {

class MockCluster {
 public:
  explicit MockCluster(int brokers = 3) {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    char error[256];
    rd_kafka_conf_set(conf, "log_level", "0", error, sizeof error);
    rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error);
    if (rk_ != nullptr) cluster_ = rd_kafka_mock_cluster_new(rk_, brokers);
  }
  ~MockCluster() {
    if (cluster_ != nullptr) rd_kafka_mock_cluster_destroy(cluster_);
    if (rk_ != nullptr) rd_kafka_destroy(rk_);
  }
  MockCluster(const MockCluster&) = delete;
  MockCluster& operator=(const MockCluster&) = delete;

  bool ok() const { return cluster_ != nullptr; }
  std::string bootstraps() const { return rd_kafka_mock_cluster_bootstraps(cluster_); }
  rd_kafka_mock_cluster_t* get() const { return cluster_; }

  void CreateTopic(const std::string& topic, int partitions) {
    rd_kafka_mock_topic_create(cluster_, topic.c_str(), partitions, 3);
  }
  // The next `errors.size()` requests of API `api_key` fail with these errors, in order.
  void PushErrors(std::int16_t api_key, std::vector<rd_kafka_resp_err_t> errors) {
    rd_kafka_mock_push_request_errors_array(cluster_, api_key, errors.size(), errors.data());
  }

 private:
  rd_kafka_t* rk_ = nullptr;
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
};

}  // namespace kappa::testing

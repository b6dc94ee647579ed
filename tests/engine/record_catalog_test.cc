#include "engine/record_catalog.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <string>

namespace kappa::engine {
namespace {

struct Tick {
  std::int64_t id;
  double price;
  char venue[16];
};
struct Other {
  std::uint64_t n;
};
struct Padded {
  std::int64_t id;
};

}  // namespace
}  // namespace kappa::engine

template <>
struct kappa::engine::RecordType<kappa::engine::Tick> {
  static constexpr std::uint16_t kLogType = 9;
  static constexpr const char* kName = "tick";
  static constexpr auto kFields = std::make_tuple(
      Member("id", &Tick::id), Member("price", &Tick::price), Member("venue", &Tick::venue));
};
template <>
struct kappa::engine::RecordType<kappa::engine::Other> {
  static constexpr std::uint16_t kLogType = 9;
  static constexpr auto kFields = std::make_tuple(Member("n", &Other::n));
};

KAPPA_NAMED_RECORD(kappa::engine::Padded, "padded", 5, id);
KAPPA_RECORD_TAIL(kappa::engine::Padded, "extra");

namespace kappa::engine {
namespace {

class RecordCatalogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    log_ = "/dev/shm/kappa-test-catalog-" + std::to_string(::getpid()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".log";
    ::unlink(RecordCatalog::PathFor(log_).c_str());
  }
  void TearDown() override { ::unlink(RecordCatalog::PathFor(log_).c_str()); }
  void WriteCatalog(const std::string& text) {
    std::ofstream(RecordCatalog::PathFor(log_)) << text;
  }

  std::string log_;
};

TEST_F(RecordCatalogTest, ShouldBeEmptyForALogWithoutOne) {
  auto catalog = RecordCatalog::Load(log_);
  ASSERT_TRUE(catalog.ok()) << catalog.status().message();
  EXPECT_TRUE(catalog->entries().empty());
  EXPECT_EQ(catalog->Find(9), nullptr);
}

TEST_F(RecordCatalogTest, ShouldRoundTripRegisteredTypes) {
  ASSERT_TRUE(RecordCatalog::Register<Tick>(log_, RecordName<Tick>()).ok());
  ASSERT_TRUE(RecordCatalog::Register(log_, 2, "pair",
                                      std::move(serving::Schema::Make({serving::Field::I64("a"),
                                                                       serving::Field::U64("b")}))
                                          .value())
                  .ok());
  // Registering the same type again changes nothing.
  ASSERT_TRUE(RecordCatalog::Register<Tick>(log_, "tick").ok());
  auto catalog = RecordCatalog::Load(log_);
  ASSERT_TRUE(catalog.ok()) << catalog.status().message();
  ASSERT_EQ(catalog->entries().size(), 2u);
  EXPECT_EQ(catalog->entries()[0].type, 2);  // in type order
  const CatalogEntry* tick = catalog->Find(9);
  ASSERT_NE(tick, nullptr);
  EXPECT_EQ(tick->name, "tick");
  ASSERT_EQ(tick->schema.size(), 3u);
  EXPECT_EQ(tick->schema.field(1).name, "price");
  EXPECT_EQ(tick->schema.field(1).type, serving::FieldType::kF64);
  EXPECT_EQ(tick->schema.field(2).type, serving::FieldType::kString);
  EXPECT_EQ(tick->schema.field(2).size, 16u);
  EXPECT_EQ(tick->schema.value_size(), sizeof(Tick));
  EXPECT_NE(catalog->Text().find("9 tick id:i64 price:f64 venue:string16\n"), std::string::npos)
      << catalog->Text();
}

TEST_F(RecordCatalogTest, ShouldRefuseATypeRegisteredWithOtherFields) {
  ASSERT_TRUE(RecordCatalog::Register<Tick>(log_, "tick").ok());
  const serving::Status s = RecordCatalog::Register<Other>(log_, RecordName<Other>());
  EXPECT_EQ(s.code(), serving::StatusCode::kAlreadyExists);
  EXPECT_NE(s.message().find("record type 9 is already tick"), std::string::npos) << s.message();
  EXPECT_EQ(RecordName<Other>(), "record9");
  const serving::Status renamed = RecordCatalog::Register<Tick>(log_, "quote");
  EXPECT_EQ(renamed.code(), serving::StatusCode::kAlreadyExists);
  EXPECT_FALSE(RecordCatalog::Register<Tick>(log_, "bad name").ok());
}

// Types from memlog::kFirstReservedType up are kappa's own records (a Kafka ingester's
// positions, say): no application type may take one.
TEST_F(RecordCatalogTest, ShouldRefuseReservedTypes) {
  const auto id = std::move(serving::Schema::Make({serving::Field::I64("id")})).value();
  for (const std::uint16_t type :
       {memlog::kFirstReservedType, memlog::kKafkaPositionType, std::uint16_t{0xFFFF}}) {
    const serving::Status s = RecordCatalog::Register(log_, type, "mine", id);
    EXPECT_EQ(s.code(), serving::StatusCode::kInvalidArgument) << type;
    EXPECT_NE(s.message().find("is reserved: application types are 0 to 65279"), std::string::npos)
        << s.message();
  }
  ASSERT_TRUE(RecordCatalog::Register(log_, memlog::kFirstReservedType - 1, "last", id).ok());
  auto catalog = RecordCatalog::Load(log_);
  ASSERT_TRUE(catalog.ok()) << catalog.status().message();
  ASSERT_EQ(catalog->entries().size(), 1u);
}

TEST_F(RecordCatalogTest, ShouldNameTheLineOfAMalformedCatalog) {
  const struct {
    const char* text;
    const char* error;
  } cases[] = {
      {"# header\n70000 big a:i64\n", ":2: bad record type '70000'"},
      {"1 ok a:i64\n2 two a\n", ":2: field 'a' has no type"},
      {"1 ok a:i32\n", ":1: field 'a:i32' has an unknown type"},
      {"1 ok a:i64 a:i64\n", ":1: "},
      {"1 ok a:i64\n1 again b:i64\n", ":2: type 1 is listed twice"},
      {"1 b@d a:i64\n", ":1: bad type name 'b@d'"},
      {"1 s a:string\n", ":1: field 'a:string' has an unknown type"},
      {"1 t a:i64 x:tail b:i64\n", ":1: field 'b:i64' comes after the tail"},
      {"1 t a:i64 a:tail\n", ":1: the tail 'a' is also a field's name"},
      {"1 t a:i64 x-y:tail\n", ":1: bad tail name 'x-y'"},
      {"1 ok a:i64\n65281 position a:i64\n", ":2: record type 65281 is reserved"},
  };
  for (const auto& c : cases) {
    WriteCatalog(c.text);
    auto catalog = RecordCatalog::Load(log_);
    ASSERT_FALSE(catalog.ok()) << c.text;
    EXPECT_EQ(catalog.status().code(), serving::StatusCode::kCorrupt) << c.text;
    EXPECT_NE(catalog.status().message().find(RecordCatalog::PathFor(log_) + c.error),
              std::string::npos)
        << c.text << " -> " << catalog.status().message();
  }
}

// A type with a tail: its payloads are its size or longer, and the catalog names the tail.
TEST_F(RecordCatalogTest, ShouldNameATailAndFitPayloadsThatCarryOne) {
  static_assert(PayloadFits<Padded>(sizeof(Padded)) && PayloadFits<Padded>(sizeof(Padded) + 9) &&
                !PayloadFits<Padded>(sizeof(Padded) - 1));
  static_assert(PayloadFits<Tick>(sizeof(Tick)) && !PayloadFits<Tick>(sizeof(Tick) + 1));
  ASSERT_TRUE(RecordCatalog::Register<Padded>(log_, RecordName<Padded>()).ok());
  ASSERT_TRUE(RecordCatalog::Register<Padded>(log_, "padded").ok());  // the same: a no-op
  ASSERT_TRUE(RecordCatalog::Register<Tick>(log_, "tick").ok());
  auto catalog = RecordCatalog::Load(log_);
  ASSERT_TRUE(catalog.ok()) << catalog.status().message();
  EXPECT_NE(catalog->Text().find("5 padded id:i64 extra:tail\n"), std::string::npos)
      << catalog->Text();
  const CatalogEntry* padded = catalog->Find(5);
  ASSERT_NE(padded, nullptr);
  EXPECT_EQ(padded->tail, "extra");
  EXPECT_TRUE(padded->Fits(8));
  EXPECT_TRUE(padded->Fits(100));
  EXPECT_FALSE(padded->Fits(7));
  const CatalogEntry* tick = catalog->Find(9);
  ASSERT_NE(tick, nullptr);
  EXPECT_TRUE(tick->tail.empty());
  EXPECT_TRUE(tick->Fits(sizeof(Tick)));
  EXPECT_FALSE(tick->Fits(sizeof(Tick) + 1));
  // A tail needs a field's kind of name, and not one of the fields'.
  const auto id = std::move(serving::Schema::Make({serving::Field::I64("id")})).value();
  EXPECT_EQ(RecordCatalog::Register(log_, 6, "t6", id, "x-y").code(),
            serving::StatusCode::kInvalidArgument);
  EXPECT_EQ(RecordCatalog::Register(log_, 6, "t6", id, "id").code(),
            serving::StatusCode::kInvalidArgument);
  // The same type without its tail is another schema.
  const serving::Status other = RecordCatalog::Register(
      log_, 5, "padded", std::move(serving::Schema::Make({serving::Field::I64("id")})).value());
  EXPECT_EQ(other.code(), serving::StatusCode::kAlreadyExists);
}

}  // namespace
}  // namespace kappa::engine

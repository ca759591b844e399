// SPDX-License-Identifier: Apache-2.0
// The device side of erasure: which uploaded events the collector acknowledges without storing,
// and the instructions it puts in an acknowledgement.
#include "internal/erasure_api.h"

#include <gtest/gtest.h>

#include "ward/collector/storage/secrets.h"
#include "ward/common/hex.h"

namespace ward::collector::internal {
namespace {

EraseInstruction For(const std::string& account) {
  const std::string salt_hex = NewSecret();
  const auto salt = HexDecode(salt_hex);
  return {"er-1", salt_hex, HmacSha256Hex(std::string(salt->begin(), salt->end()), account)};
}

EventRow Row(const std::string& id, const std::string& account, bool concern = false) {
  EventRow r;
  r.id = id;
  r.kind = concern ? "concern" : "usb";
  r.account = account;
  if (concern) {
    r.concern = ConcernRow{"R", 1, "text", false, false, account, ""};
  }
  return r;
}

// Only the named account's events go; its concerns always arrive, and other accounts' events
// and events without an account are stored as usual.
TEST(ErasureApiTest, DropsOnlyTheErasedAccountsEventsNotItsConcerns) {
  const std::vector<EraseInstruction> pending = {For("learner1")};
  std::vector<EventRow> rows = {Row("a", "learner1"), Row("b", "learner10"), Row("c", ""),
                                Row("d", "learner1", /*concern=*/true), Row("e", "learner1")};
  EXPECT_EQ(DropErasedEvents(pending, rows), (std::vector<std::string>{"a", "e"}));
  std::vector<std::string> left;
  for (const EventRow& r : rows) {
    left.push_back(r.id);
  }
  EXPECT_EQ(left, (std::vector<std::string>{"b", "c", "d"}));
  std::vector<EventRow> none = {Row("a", "learner1")};
  EXPECT_TRUE(DropErasedEvents({}, none).empty());
  EXPECT_EQ(none.size(), 1u);
}

// The acknowledgement carries the salt and mac as bytes, never the name; a damaged row is
// reported, not sent.
TEST(ErasureApiTest, InstructionsCarryBytesAndNoName) {
  const EraseInstruction i = For("learner1");
  v1::DeviceStatusAck ack;
  ASSERT_TRUE(AddEraseInstructions({i}, ack.mutable_erase()).has_value());
  ASSERT_EQ(ack.erase_size(), 1);
  EXPECT_EQ(ack.erase(0).id(), "er-1");
  EXPECT_EQ(ack.erase(0).salt().size(), 32u);
  const auto mac = HexDecode(i.account_mac_hex);
  EXPECT_EQ(ack.erase(0).account_mac(), std::string(mac->begin(), mac->end()));
  EXPECT_EQ(ack.SerializeAsString().find("learner1"), std::string::npos);
  EraseInstruction damaged = i;
  damaged.salt_hex = "not hex";
  EXPECT_EQ(AddEraseInstructions({damaged}, ack.mutable_erase()).error().code(),
            ErrorCode::kDataLoss);
}

}  // namespace
}  // namespace ward::collector::internal

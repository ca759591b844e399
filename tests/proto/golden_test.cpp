// SPDX-License-Identifier: Apache-2.0
// Wire compatibility: bytes written by v1 must parse to the same messages forever. The golden
// files were written once by this test (WARD_UPDATE_GOLDENS=1); never regenerate them to make a
// failing test pass — that failure means the wire contract broke.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include "ward/testing/paths.h"
#include "ward/v1/event.pb.h"
#include "ward/v1/ipc.pb.h"
#include "ward/v1/policy.pb.h"
#include "ward/v1/sync.pb.h"

namespace ward {
namespace {

namespace v1 = ::ward::v1;

v1::Policy SamplePolicy() {
  v1::Policy p;
  p.set_version(7);
  p.mutable_issued_at()->set_seconds(1'764'000'000);
  p.set_mode(v1::MODE_ENFORCE);
  p.set_name("Learners under 18");
  p.set_audience(v1::AUDIENCE_UNDER_18);
  auto* usb = p.mutable_usb();
  usb->set_default_action(v1::USB_ACTION_BLOCK);
  usb->set_default_message("USB memory sticks are blocked on college laptops.");
  auto* r = usb->add_rules();
  r->set_id("college-sticks");
  r->set_action(v1::USB_ACTION_ALLOW);
  r->mutable_device_id()->add_values("0781:5567");
  r->mutable_serial()->set_op(v1::SET_OPERATOR_ONE_OF);
  r->mutable_serial()->add_values("4C530001");
  r->mutable_serial()->add_values("4C530002");
  auto* r2 = usb->add_rules();
  r2->set_id("no-storage-interfaces");
  r2->set_action(v1::USB_ACTION_BLOCK);
  r2->set_scope(v1::USB_RULE_SCOPE_INTERFACE);
  r2->mutable_with_interface()->add_values("08:*:*");
  r2->mutable_when()->set_local_time("08:00-17:30");
  r2->set_message("Memory sticks can't be used here.");
  r2->set_url("https://example.org/it/usb");
  auto* known = usb->add_enrolled_devices();
  known->set_device_id("04f2:b6dd");
  known->set_via_port("1-5");
  auto* apps = p.mutable_apps();
  apps->set_default_action(v1::APP_ACTION_BLOCK);
  auto* a = apps->add_rules();
  a->set_id("firefox");
  a->set_action(v1::APP_ACTION_ALLOW);
  a->set_package("firefox-esr");
  auto* b = apps->add_rules();
  b->set_id("tor");
  b->set_action(v1::APP_ACTION_BLOCK);
  b->set_sha256(std::string(64, 'a'));
  b->set_message("This program isn't allowed on college laptops.");
  apps->add_restricted_interpreters("/usr/bin/python3");
  auto* s = p.mutable_settings()->add_settings();
  s->set_name("desktop.wallpaper");
  s->set_string_value("/usr/share/backgrounds/college.png");
  s->set_locked(true);
  auto* aup = p.mutable_aup();
  aup->set_version(2);
  aup->set_title("Using your college laptop");
  aup->set_text_under_18("Be kind online.\n\nAsk for help if something worries you.");
  auto* c = p.mutable_contacts();
  c->set_dsl_name("Ms Patel");
  c->set_dsl_email("safeguarding@example.org");
  p.mutable_store()->set_max_bytes(64ull << 20);
  return p;
}

v1::SignedPolicy SampleSignedPolicy() {
  v1::SignedPolicy sp;
  SamplePolicy().SerializeToString(sp.mutable_policy());
  sp.set_signature(std::string(64, '\x5a'));
  sp.set_key_id("0123456789abcdef");
  return sp;
}

v1::Event BaseEvent(std::string id, v1::Priority priority) {
  v1::Event e;
  e.set_id(std::move(id));
  e.mutable_device_time()->set_seconds(1'764'000'100);
  e.mutable_device_time()->set_nanos(250'000'000);
  e.set_priority(priority);
  e.set_user("learner1");
  e.set_policy_version(7);
  return e;
}

v1::EventBatch SampleEventBatch() {
  v1::EventBatch batch;
  {
    auto e = BaseEvent("0190b6e4-7c1a-7b3e-9f00-1c2d3e4f5a01", v1::PRIORITY_HIGH);
    auto* u = e.mutable_usb();
    u->set_kind(v1::UsbEvent::KIND_DECIDED);
    u->set_decision(v1::DECISION_BLOCK);
    u->mutable_device()->set_device_id("090c:1000");
    u->mutable_device()->set_serial("AA00112233");
    u->mutable_device()->set_name("Flash Disk");
    u->mutable_device()->set_via_port("1-2");
    u->mutable_device()->add_interfaces("08:06:50");
    auto* i = u->add_interfaces();
    i->set_interface_class("08:06:50");
    i->set_decision(v1::DECISION_BLOCK);
    *batch.add_events() = e;
  }
  {
    auto e = BaseEvent("0190b6e4-7c1a-7b3e-9f00-1c2d3e4f5a02", v1::PRIORITY_HIGH);
    auto* x = e.mutable_exec();
    x->set_decision(v1::DECISION_BLOCK);
    x->set_path("/home/learner1/Downloads/game");
    x->set_sha256(std::string(64, 'b'));
    x->set_uid(1000);
    x->set_pid(4242);
    x->set_reason("no rule matched; default is block");
    *batch.add_events() = e;
  }
  {
    auto e = BaseEvent("0190b6e4-7c1a-7b3e-9f00-1c2d3e4f5a03", v1::PRIORITY_CRITICAL);
    e.set_user("");
    auto* c = e.mutable_concern();
    c->set_reference("K7QF-2M9X");
    c->set_category(v1::CONCERN_CATEGORY_UNCOMFORTABLE_CONTACT);
    c->set_text("Someone keeps messaging me and asking for photos.");
    c->set_anonymous(true);
    c->set_in_danger(false);
    c->set_screenshot_png(std::string("\x89PNG\r\n\x1a\n", 8));
    *batch.add_events() = e;
  }
  {
    auto e = BaseEvent("0190b6e4-7c1a-7b3e-9f00-1c2d3e4f5a04", v1::PRIORITY_HIGH);
    e.mutable_settings()->set_kind(v1::SettingsEvent::KIND_DRIFT_REVERTED);
    e.mutable_settings()->set_setting("desktop.wallpaper");
    *batch.add_events() = e;
  }
  {
    auto e = BaseEvent("0190b6e4-7c1a-7b3e-9f00-1c2d3e4f5a05", v1::PRIORITY_NORMAL);
    e.mutable_agent()->set_kind(v1::AgentEvent::KIND_EVENTS_EVICTED);
    e.mutable_agent()->set_count(120);
    e.mutable_agent()->set_priority(v1::PRIORITY_LOW);
    *batch.add_events() = e;
  }
  {
    auto e = BaseEvent("0190b6e4-7c1a-7b3e-9f00-1c2d3e4f5a06", v1::PRIORITY_NORMAL);
    e.mutable_aup()->set_aup_version(2);
    e.mutable_aup()->set_policy_version(7);
    e.mutable_aup()->set_under_18_text(true);
    *batch.add_events() = e;
  }
  return batch;
}

v1::EnrolRequest SampleEnrolRequest() {
  v1::EnrolRequest r;
  r.set_enrolment_secret("s3cret-learners-u18");
  r.set_hostname("lt-0042");
  r.set_os("debian 12");
  r.set_agent_version("0.1.0");
  r.set_machine_hash(std::string(64, 'c'));
  return r;
}

v1::DeviceStatus SampleDeviceStatus() {
  v1::DeviceStatus s;
  s.set_agent_version("0.1.0");
  s.set_policy_version(7);
  s.set_mode(v1::MODE_MONITOR);
  (*s.mutable_store()->mutable_events_by_priority())["CRITICAL"] = 1;
  s.mutable_store()->set_bytes_used(40960);
  auto* d = s.add_degraded();
  d->set_subsystem("fanotify");
  d->set_reason("kernel has no FAN_OPEN_EXEC_PERM");
  return s;
}

v1::IpcRequest SampleIpcRequest() {
  v1::IpcRequest r;
  r.set_request_id(9);
  auto* c = r.mutable_submit_concern();
  c->set_category(v1::CONCERN_CATEGORY_BULLYING);
  c->set_text("People in my group chat are being mean about me.");
  c->set_in_danger(true);
  return r;
}

v1::IpcServerMessage SampleIpcNotice() {
  v1::IpcServerMessage m;
  auto* n = m.mutable_notice()->mutable_usb_blocked();
  n->set_device_name("Flash Disk");
  n->set_message("USB memory sticks are blocked on college laptops.");
  n->set_url("https://example.org/it/usb");
  return m;
}

struct Golden {
  const char* file;
  std::function<std::unique_ptr<google::protobuf::Message>()> make;
};

template <typename M>
std::function<std::unique_ptr<google::protobuf::Message>()> Maker(M (*fn)()) {
  return [fn] { return std::make_unique<M>(fn()); };
}

std::vector<Golden> Goldens() {
  return {
      {"policy.binpb", Maker(&SamplePolicy)},
      {"signed_policy.binpb", Maker(&SampleSignedPolicy)},
      {"event_batch.binpb", Maker(&SampleEventBatch)},
      {"enrol_request.binpb", Maker(&SampleEnrolRequest)},
      {"device_status.binpb", Maker(&SampleDeviceStatus)},
      {"ipc_request.binpb", Maker(&SampleIpcRequest)},
      {"ipc_notice.binpb", Maker(&SampleIpcNotice)},
  };
}

std::string Deterministic(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::io::StringOutputStream stream(&out);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  m.SerializeToCodedStream(&coded);
  coded.Trim();
  return out;
}

std::filesystem::path GoldenDir() { return ward::testing::TestdataDir() / "proto" / "v1"; }

class GoldenTest : public ::testing::TestWithParam<Golden> {};

TEST_P(GoldenTest, OldBytesParseToTheSameMessage) {
  const Golden& g = GetParam();
  auto expected = g.make();
  auto path = GoldenDir() / g.file;
  if (std::getenv("WARD_UPDATE_GOLDENS") != nullptr) {
    std::ofstream(path, std::ios::binary) << Deterministic(*expected);
  }
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in.good()) << "missing golden file " << path;
  std::stringstream bytes;
  bytes << in.rdbuf();
  auto parsed = std::unique_ptr<google::protobuf::Message>(expected->New());
  ASSERT_TRUE(parsed->ParseFromString(bytes.str())) << path;
  std::string diff;
  google::protobuf::util::MessageDifferencer differ;
  differ.ReportDifferencesToString(&diff);
  EXPECT_TRUE(differ.Compare(*expected, *parsed)) << g.file << ":\n" << diff;
  // No field of the golden bytes is unknown to today's schema (a renumbered tag would be).
  EXPECT_EQ(Deterministic(*parsed), bytes.str()) << g.file;
}

INSTANTIATE_TEST_SUITE_P(V1, GoldenTest, ::testing::ValuesIn(Goldens()),
                         [](const ::testing::TestParamInfo<Golden>& param_info) {
                           std::string name = param_info.param.file;
                           return name.substr(0, name.find('.'));
                         });

}  // namespace
}  // namespace ward

// SPDX-License-Identifier: Apache-2.0
// ward-agent.exe as a Windows service (internal/service_windows.h): the SCM dispatcher and
// control handler, the start/stop sequence with its status reports, power events, the
// service's own recovery actions and access list, and the log sink that writes to the Windows
// Event Log and to a file under %ProgramData%\Ward.
#include "internal/service_windows.h"

#include <windows.h>

#include <sddl.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <type_traits>

#include "ward/app/agent.h"
#include "ward/app/config.h"
#include "ward/app/package_cli.h"
#include "ward/common/error_windows.h"
#include "ward/common/file_windows.h"
#include "ward/common/log.h"

namespace ward::app::internal {
namespace {

// ward_agent_messages.mc: message 1 is "%1", the record itself.
constexpr DWORD kRecordMessageId = 1;
constexpr std::uintmax_t kMaxLogBytes = 8 * 1024 * 1024;
constexpr DWORD kStartWaitHintMs = 30000;
constexpr DWORD kStopWaitHintMs = 30000;  // a removal's last upload takes up to 10 s
constexpr DWORD kPreshutdownTimeoutMs = 15000;

struct ScHandleCloser {
  void operator()(SC_HANDLE h) const { CloseServiceHandle(h); }
};
using ScHandle = std::unique_ptr<std::remove_pointer_t<SC_HANDLE>, ScHandleCloser>;

// The WardAgent service, opened for `access` (the SCM handle is only needed to open it).
Result<ScHandle> OpenWardService(DWORD access) {
  const ScHandle scm(OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CONNECT));
  if (!scm) {
    return std::unexpected(WindowsError("opening the service manager", GetLastError()));
  }
  ScHandle service(OpenServiceW(scm.get(), kServiceName, access));
  if (!service) {
    return std::unexpected(WindowsError("opening the WardAgent service", GetLastError()));
  }
  return service;
}

std::filesystem::path ThisExecutable() {
  std::wstring path(MAX_PATH, L'\0');
  for (;;) {
    const DWORD n = GetModuleFileNameW(nullptr, path.data(), static_cast<DWORD>(path.size()));
    if (n < path.size()) {
      path.resize(n);
      return path;
    }
    path.resize(path.size() * 2);
  }
}

// Every record goes to the log file (with a UTC time) and, from info up, to the Event Log; in
// the console also to stderr. Thread-safe.
class ServiceLogSink final : public log::Sink {
 public:
  explicit ServiceLogSink(bool console)
      : console_(console), source_(RegisterEventSourceW(nullptr, kEventSource)) {}
  ~ServiceLogSink() override {
    if (source_ != nullptr) {
      DeregisterEventSource(source_);
    }
  }
  ServiceLogSink(const ServiceLogSink&) = delete;
  ServiceLogSink& operator=(const ServiceLogSink&) = delete;

  // Opens (appends to) the log file; a file over kMaxLogBytes is kept as "<name>.1" first.
  void OpenFile(const std::filesystem::path& path) {
    std::scoped_lock lock(mu_);
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
    if (std::filesystem::file_size(path, ec) > kMaxLogBytes && !ec) {
      std::filesystem::path old = path;
      old += ".1";
      std::filesystem::rename(path, old, ec);
    }
    file_.open(path, std::ios::app | std::ios::binary);
  }

  void Write(log::Level level, std::string_view line) override {
    std::scoped_lock lock(mu_);
    if (console_) {
      std::fprintf(stderr, "%.*s\n", static_cast<int>(line.size()), line.data());
    }
    if (file_.is_open()) {
      char when[32] = {};
      const std::time_t now = std::time(nullptr);
      std::tm utc{};
      gmtime_s(&utc, &now);
      std::strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &utc);
      file_ << "time=" << when << ' ' << line << "\r\n";
      file_.flush();
    }
    if (source_ != nullptr && level != log::Level::kDebug) {
      const std::wstring text = Utf16(line);
      const wchar_t* strings[] = {text.c_str()};
      const WORD type = level == log::Level::kError     ? EVENTLOG_ERROR_TYPE
                        : level == log::Level::kWarning ? EVENTLOG_WARNING_TYPE
                                                        : EVENTLOG_INFORMATION_TYPE;
      ReportEventW(source_, type, 0, kRecordMessageId, nullptr, 1, 0, strings, nullptr);
    }
  }

 private:
  std::mutex mu_;
  const bool console_;
  HANDLE source_;
  std::ofstream file_;  // guarded by mu_
};

enum class StopRequest : int { kNone, kStop, kShutdown, kConsole };

// The running service's state, shared by the service thread and the SCM's control handler.
class ServiceRun {
 public:
  explicit ServiceRun(bool console)
      : console_(console),
        stop_(CreateEventW(nullptr, TRUE, FALSE, nullptr)),
        resumed_(CreateEventW(nullptr, FALSE, FALSE, nullptr)) {}
  ~ServiceRun() {
    CloseHandle(stop_);
    CloseHandle(resumed_);
  }
  ServiceRun(const ServiceRun&) = delete;
  ServiceRun& operator=(const ServiceRun&) = delete;

  void SetStatusHandle(SERVICE_STATUS_HANDLE handle) { handle_ = handle; }

  // Reports `state` to the SCM (nothing in the console). Pending states count checkpoints.
  void Report(DWORD state, DWORD wait_hint_ms = 0, int exit_code = 0) {
    if (handle_ == nullptr) {
      return;
    }
    std::scoped_lock lock(mu_);
    status_.dwServiceType = SERVICE_WIN32_OWN_PROCESS;
    status_.dwCurrentState = state;
    status_.dwControlsAccepted = state == SERVICE_RUNNING
                                     ? SERVICE_ACCEPT_STOP | SERVICE_ACCEPT_SHUTDOWN |
                                           SERVICE_ACCEPT_PRESHUTDOWN | SERVICE_ACCEPT_POWEREVENT
                                     : 0;
    status_.dwWin32ExitCode = exit_code == 0 ? NO_ERROR : ERROR_SERVICE_SPECIFIC_ERROR;
    status_.dwServiceSpecificExitCode = static_cast<DWORD>(exit_code);
    status_.dwWaitHint = wait_hint_ms;
    const bool pending = state == SERVICE_START_PENDING || state == SERVICE_STOP_PENDING;
    status_.dwCheckPoint = pending ? ++checkpoint_ : 0;
    if (!SetServiceStatus(handle_, &status_)) {
      log::Warning("cannot report to the service manager",
                   {{"error", WindowsError("SetServiceStatus", GetLastError()).ToString()}});
    }
  }

  void RequestStop(StopRequest why) {
    int none = static_cast<int>(StopRequest::kNone);
    request_.compare_exchange_strong(none, static_cast<int>(why));
    SetEvent(stop_);
  }
  StopRequest stop_request() const { return static_cast<StopRequest>(request_.load()); }
  void Resumed() { SetEvent(resumed_); }
  HANDLE stop_event() const { return stop_; }
  HANDLE resumed_event() const { return resumed_; }
  bool console() const { return console_; }

 private:
  const bool console_;
  HANDLE stop_;
  HANDLE resumed_;
  std::atomic<int> request_{static_cast<int>(StopRequest::kNone)};
  SERVICE_STATUS_HANDLE handle_ = nullptr;
  std::mutex mu_;
  SERVICE_STATUS status_{};  // guarded by mu_
  DWORD checkpoint_ = 0;     // guarded by mu_
};

// The SCM calls ServiceMain and the console handler without a context of ours: these two
// file-local pointers are set once before the dispatcher (or the console run) starts.
const std::filesystem::path* g_config_path = nullptr;
ServiceRun* g_console_run = nullptr;

// The installer's marker ("upgrade" or "remove" in <status dir>\package-stop), if SYSTEM or an
// administrator left it; read once and deleted.
StopCause TakePackageStopCause(const AgentConfig& config) {
  const std::filesystem::path marker = PackageStopMarker(config);
  auto file = OpenForReading(marker, /*follow_links=*/false);
  if (!file.has_value()) {
    return StopCause::kOther;
  }
  auto owner = UntrustedOwner(file->get(), PathUtf8(marker));
  auto text = ReadSmallFile(file->get(), PathUtf8(marker), 64);
  file->reset();
  DeleteFileW(marker.c_str());
  if (!owner.has_value() || !owner->empty() || !text.has_value()) {
    return StopCause::kOther;
  }
  if (text->starts_with("upgrade")) {
    return StopCause::kPackageUpgrade;
  }
  if (text->starts_with("remove")) {
    return StopCause::kPackageRemove;
  }
  return StopCause::kOther;
}

// Start, run until asked to stop, stop. Returns the exit code (0: stopped as asked).
int RunAgent(ServiceRun& run, ServiceLogSink& sink) {
  run.Report(SERVICE_START_PENDING, kStartWaitHintMs);
  auto config = LoadConfig(*g_config_path);
  if (!config.has_value()) {
    log::Error("cannot read the configuration", {{"error", config.error().ToString()}});
    return 2;
  }
  sink.OpenFile(config->status_file.parent_path() / "logs" / "ward-agent.log");
  if (!run.console()) {
    // Every start, so a service the MSI (or `sc create`) made gets them too; idempotent.
    if (auto configured = ConfigureService(); !configured.has_value()) {
      log::Warning("cannot set the service's recovery actions and access list",
                   {{"error", configured.error().ToString()}});
    }
  }
  run.Report(SERVICE_START_PENDING, kStartWaitHintMs);
  auto deps = AgentDeps::Create(*config);
  if (!deps.has_value()) {
    log::Error("cannot build the agent", {{"error", deps.error().ToString()}});
    return 1;
  }
  Agent agent(*std::move(deps));
  run.Report(SERVICE_START_PENDING, kStartWaitHintMs);
  if (auto started = agent.Start(); !started.has_value()) {
    log::Error("cannot start", {{"error", started.error().ToString()}});
    return 1;
  }
  run.Report(SERVICE_RUNNING);
  const HANDLE waits[] = {run.stop_event(), run.resumed_event()};
  for (;;) {
    const DWORD woke = WaitForMultipleObjects(2, waits, FALSE, INFINITE);
    if (woke == WAIT_OBJECT_0 + 1) {
      // Back from sleep: the network may be back too; sync now rather than after its back-off.
      log::Info("resumed from sleep");
      if (auto* sync = agent.sync(); sync != nullptr) {
        sync->NotifyAppended(v1::PRIORITY_CRITICAL);
      }
      continue;
    }
    if (woke != WAIT_OBJECT_0) {
      log::Error("waiting for a stop failed",
                 {{"error", WindowsError("WaitForMultipleObjects", GetLastError()).ToString()}});
      agent.Stop();
      return 1;
    }
    break;
  }
  run.Report(SERVICE_STOP_PENDING, kStopWaitHintMs);
  const StopRequest request = run.stop_request();
  log::Info("stopping", {{"by", request == StopRequest::kShutdown  ? "shutdown"
                                : request == StopRequest::kConsole ? "console"
                                                                   : "service manager"}});
  if (request == StopRequest::kShutdown) {
    RecordStop(agent, *config, StopCause::kShutdown, "Windows is shutting down");
  } else {
    RecordStop(agent, *config, TakePackageStopCause(*config),
               request == StopRequest::kConsole ? "Ctrl+C in its console"
                                                : "a stop through the service manager");
  }
  run.Report(SERVICE_STOP_PENDING, kStopWaitHintMs);
  agent.Stop();
  return 0;
}

DWORD WINAPI ControlHandler(DWORD control, DWORD event_type, LPVOID /*event_data*/,
                            LPVOID context) {
  auto& run = *static_cast<ServiceRun*>(context);
  switch (control) {
    case SERVICE_CONTROL_STOP:
      run.RequestStop(StopRequest::kStop);
      run.Report(SERVICE_STOP_PENDING, kStopWaitHintMs);
      return NO_ERROR;
    case SERVICE_CONTROL_SHUTDOWN:
    case SERVICE_CONTROL_PRESHUTDOWN:
      run.RequestStop(StopRequest::kShutdown);
      run.Report(SERVICE_STOP_PENDING, kStopWaitHintMs);
      return NO_ERROR;
    case SERVICE_CONTROL_POWEREVENT:
      if (event_type == PBT_APMSUSPEND) {
        log::Info("going to sleep");
      } else if (event_type == PBT_APMRESUMEAUTOMATIC || event_type == PBT_APMRESUMESUSPEND) {
        run.Resumed();
      }
      return NO_ERROR;
    case SERVICE_CONTROL_INTERROGATE:
      return NO_ERROR;
    default:
      return ERROR_CALL_NOT_IMPLEMENTED;
  }
}

void WINAPI ServiceMain(DWORD /*argc*/, LPWSTR* /*argv*/) {
  ServiceLogSink* sink = nullptr;
  {
    auto owned = std::make_unique<ServiceLogSink>(false);
    sink = owned.get();
    log::SetSink(std::move(owned));
  }
  ServiceRun run(false);
  const SERVICE_STATUS_HANDLE handle =
      RegisterServiceCtrlHandlerExW(kServiceName, ControlHandler, &run);
  if (handle == nullptr) {
    log::Error(
        "cannot register with the service manager",
        {{"error", WindowsError("RegisterServiceCtrlHandlerEx", GetLastError()).ToString()}});
    return;
  }
  run.SetStatusHandle(handle);
  int code = 1;
  try {
    code = RunAgent(run, *sink);
  } catch (const std::exception& e) {
    log::Error("unexpected exception", {{"what", e.what()}});
  } catch (...) {
    log::Error("unexpected exception");
  }
  // A non-zero code is a failure: the SCM's recovery actions restart the service.
  log::Info("ward-agent stopped", {{"exit_code", code}});
  run.Report(SERVICE_STOPPED, 0, code);
}

BOOL WINAPI ConsoleHandler(DWORD type) {
  if (g_console_run != nullptr &&
      (type == CTRL_C_EVENT || type == CTRL_BREAK_EVENT || type == CTRL_CLOSE_EVENT)) {
    g_console_run->RequestStop(StopRequest::kConsole);
    return TRUE;
  }
  return FALSE;
}

Status SetFailureActions(SC_HANDLE service) {
  SC_ACTION actions[] = {{SC_ACTION_RESTART, kFirstRestartMs},
                         {SC_ACTION_RESTART, kLaterRestartMs}};
  SERVICE_FAILURE_ACTIONSW failure{};
  failure.dwResetPeriod = kFailureResetSeconds;
  failure.cActions = 2;
  failure.lpsaActions = actions;
  if (!ChangeServiceConfig2W(service, SERVICE_CONFIG_FAILURE_ACTIONS, &failure)) {
    return std::unexpected(WindowsError("setting the recovery actions", GetLastError()));
  }
  // Also when the agent stops itself with a non-zero exit code, not only when it crashes. Wine 8
  // does not know this setting (ERROR_INVALID_LEVEL): logged, the crash recovery still holds.
  SERVICE_FAILURE_ACTIONS_FLAG on_exit_code{TRUE};
  if (!ChangeServiceConfig2W(service, SERVICE_CONFIG_FAILURE_ACTIONS_FLAG, &on_exit_code)) {
    log::Warning(
        "recovery after a non-zero exit not set",
        {{"error",
          WindowsError("SERVICE_CONFIG_FAILURE_ACTIONS_FLAG", GetLastError()).ToString()}});
  }
  return OkStatus();
}

}  // namespace

Status ConfigureService() {
  WARD_ASSIGN_OR_RETURN(const ScHandle service,
                        OpenWardService(SERVICE_CHANGE_CONFIG | WRITE_DAC | READ_CONTROL));
  WARD_RETURN_IF_ERROR(SetFailureActions(service.get()));
  SERVICE_PRESHUTDOWN_INFO preshutdown{kPreshutdownTimeoutMs};
  if (!ChangeServiceConfig2W(service.get(), SERVICE_CONFIG_PRESHUTDOWN_INFO, &preshutdown)) {
    // Only the time allowed before shutdown: the default (3 minutes on Windows 11) is longer.
    log::Debug(
        "pre-shutdown time not set",
        {{"error", WindowsError("SERVICE_CONFIG_PRESHUTDOWN_INFO", GetLastError()).ToString()}});
  }
  PSECURITY_DESCRIPTOR descriptor = nullptr;
  if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(kServiceSddl, SDDL_REVISION_1,
                                                            &descriptor, nullptr)) {
    return std::unexpected(WindowsError("the service's access list", GetLastError()));
  }
  const LocalPtr<void> owned(descriptor);
  if (!SetServiceObjectSecurity(service.get(), DACL_SECURITY_INFORMATION, descriptor)) {
    return std::unexpected(WindowsError("setting the service's access list", GetLastError()));
  }
  return OkStatus();
}

Status RegisterEventLogSource() {
  const std::wstring key =
      std::wstring(LR"(SYSTEM\CurrentControlSet\Services\EventLog\Application\)") + kEventSource;
  HKEY hkey = nullptr;
  LSTATUS rc = RegCreateKeyExW(HKEY_LOCAL_MACHINE, key.c_str(), 0, nullptr, 0, KEY_SET_VALUE,
                               nullptr, &hkey, nullptr);
  if (rc != ERROR_SUCCESS) {
    return std::unexpected(WindowsError("registering the event source", static_cast<DWORD>(rc)));
  }
  const std::wstring exe = ThisExecutable().wstring();
  const DWORD types = EVENTLOG_ERROR_TYPE | EVENTLOG_WARNING_TYPE | EVENTLOG_INFORMATION_TYPE;
  rc = RegSetValueExW(hkey, L"EventMessageFile", 0, REG_EXPAND_SZ,
                      reinterpret_cast<const BYTE*>(exe.c_str()),
                      static_cast<DWORD>((exe.size() + 1) * sizeof(wchar_t)));
  if (rc == ERROR_SUCCESS) {
    rc = RegSetValueExW(hkey, L"TypesSupported", 0, REG_DWORD,
                        reinterpret_cast<const BYTE*>(&types), sizeof(types));
  }
  RegCloseKey(hkey);
  if (rc != ERROR_SUCCESS) {
    return std::unexpected(WindowsError("registering the event source", static_cast<DWORD>(rc)));
  }
  return OkStatus();
}

Status InstallService(const std::filesystem::path& config_path) {
  std::wstring command = L"\"" + ThisExecutable().wstring() + L"\"";
  if (!config_path.empty()) {
    command += L" --config \"" + config_path.wstring() + L"\"";
  }
  const ScHandle scm(OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CREATE_SERVICE));
  if (!scm) {
    return std::unexpected(WindowsError("opening the service manager", GetLastError()));
  }
  const ScHandle service(CreateServiceW(
      scm.get(), kServiceName, kServiceDisplayName, SERVICE_ALL_ACCESS, SERVICE_WIN32_OWN_PROCESS,
      SERVICE_AUTO_START, SERVICE_ERROR_NORMAL, command.c_str(), nullptr, nullptr, nullptr,
      nullptr /* LocalSystem */, nullptr));
  if (!service) {
    return std::unexpected(WindowsError("creating the WardAgent service", GetLastError()));
  }
  std::wstring text = L"Ward keeps this laptop safe for learners: its policy, concerns and sync.";
  SERVICE_DESCRIPTIONW description{text.data()};
  (void)ChangeServiceConfig2W(service.get(), SERVICE_CONFIG_DESCRIPTION, &description);
  WARD_RETURN_IF_ERROR(RegisterEventLogSource());
  return ConfigureService();
}

Status UninstallService() {
  WARD_ASSIGN_OR_RETURN(const ScHandle service,
                        OpenWardService(SERVICE_STOP | SERVICE_QUERY_STATUS | DELETE));
  SERVICE_STATUS status{};
  if (ControlService(service.get(), SERVICE_CONTROL_STOP, &status)) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (QueryServiceStatus(service.get(), &status) && status.dwCurrentState != SERVICE_STOPPED &&
           std::chrono::steady_clock::now() < until) {
      Sleep(250);
    }
  }
  if (!DeleteService(service.get())) {
    return std::unexpected(WindowsError("deleting the WardAgent service", GetLastError()));
  }
  const std::wstring key =
      std::wstring(LR"(SYSTEM\CurrentControlSet\Services\EventLog\Application\)") + kEventSource;
  RegDeleteTreeW(HKEY_LOCAL_MACHINE, key.c_str());
  return OkStatus();
}

int RunAsService(const std::filesystem::path& config_path) {
  g_config_path = &config_path;
  // Registered at every start too (SYSTEM may write HKLM): the MSI's ServiceInstall does not.
  (void)RegisterEventLogSource();
  SERVICE_TABLE_ENTRYW table[] = {{const_cast<wchar_t*>(kServiceName), ServiceMain},
                                  {nullptr, nullptr}};
  if (!StartServiceCtrlDispatcherW(table)) {
    const DWORD err = GetLastError();
    if (err == ERROR_FAILED_SERVICE_CONTROLLER_CONNECT) {
      std::fprintf(stderr,
                   "ward-agent: this is the WardAgent service; the service manager starts it. "
                   "To run it here for debugging: ward-agent --console (try --help)\n");
      return 2;
    }
    std::fprintf(stderr, "ward-agent: %s\n",
                 WindowsError("StartServiceCtrlDispatcher", err).ToString().c_str());
    return 1;
  }
  return 0;
}

int RunInConsole(const std::filesystem::path& config_path) {
  g_config_path = &config_path;
  ServiceLogSink* sink = nullptr;
  {
    auto owned = std::make_unique<ServiceLogSink>(true);
    sink = owned.get();
    log::SetSink(std::move(owned));
  }
  ServiceRun run(true);
  g_console_run = &run;
  SetConsoleCtrlHandler(ConsoleHandler, TRUE);
  const int code = RunAgent(run, *sink);
  SetConsoleCtrlHandler(ConsoleHandler, FALSE);
  g_console_run = nullptr;
  return code;
}

Status RestoreWindowsPolicies() {
  Status first = OkStatus();
  auto keep_first = [&first](Status status) {
    if (!status.has_value() && first.has_value()) {
      first = std::move(status);
    }
  };
  auto usb = platform::CreateUsbInstallPolicy({});
  keep_first(usb.has_value() ? (*usb)->Restore() : Status(std::unexpected(usb.error())));
  auto settings = platform::CreateSettingsLockdown({});
  keep_first(settings.has_value() ? (*settings)->Restore()
                                  : Status(std::unexpected(settings.error())));
  return first;
}

}  // namespace ward::app::internal

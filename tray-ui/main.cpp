// SPDX-License-Identifier: Apache-2.0
// ward-tray: the learner's tray. Runs as the learner; talks to ward-agent only over its socket
// (Linux) or named pipe (Windows). One per login session (SessionLock).
#include <QApplication>
#include <QCommandLineParser>
#include <QLibraryInfo>
#include <QLocale>
#include <QTranslator>

#include <exception>

#include "ward/agent/ipc/endpoint.h"
#include "ward/common/log.h"
#include "ward/tray/session_lock.h"
#include "ward/tray/tray_controller.h"

int main(int argc, char** argv) {
  try {
    auto lock = ward::tray::SessionLock::TryTake(ward::tray::SessionLock::kTrayName);
    if (!lock) {
      ward::log::Warning("ward-tray could not check for another tray in this session",
                         {{"error", lock.error().ToString()}});
    } else if (*lock == nullptr) {
      ward::log::Info("ward-tray is already running in this session");
      return 0;
    }
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("ward-tray"));
    QApplication::setApplicationDisplayName(QStringLiteral("Ward"));
    QApplication::setQuitOnLastWindowClosed(false);

    QTranslator translator;
    // Built in by qt_add_translations; British English is also the source language.
    if (translator.load(QLocale(), QStringLiteral("ward_tray"), QStringLiteral("_"),
                        QStringLiteral(":/i18n")) ||
        translator.load(QStringLiteral("ward_tray_en_GB"), QStringLiteral(":/i18n"))) {
      QApplication::installTranslator(&translator);
    }

    QCommandLineParser parser;
    parser.setApplicationDescription(QApplication::translate(
        "main", "Shows Ward's protection state and lets you report a concern."));
    parser.addHelpOption();
    QCommandLineOption socket(
        QStringLiteral("socket"), QApplication::translate("main", "The agent's socket."),
        QStringLiteral("path"),
        QString::fromStdWString(ward::agent::ipc::DefaultEndpoint().wstring()));
    QCommandLineOption window(QStringLiteral("window"),
                              QApplication::translate("main", "Use a window, not the tray."));
    parser.addOption(socket);
    parser.addOption(window);
    parser.process(app);

    ward::tray::TrayController controller(parser.value(socket), parser.isSet(window));
    return QApplication::exec();
  } catch (const std::exception& e) {
    ward::log::Error("ward-tray stopped by an exception", {{"what", e.what()}});
    return 1;
  }
}

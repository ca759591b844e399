// SPDX-License-Identifier: Apache-2.0
// The real tray (TrayController from tray-ui: the icon on the X tray, its menu and dialogs)
// connected to a real ward-agent's socket, with eyes: it reports on stdout, one line each, what
// a person at the screen would see, so tray_concern_e2e.sh can drive it with real X input
// (xdotool) and check what it shows. It never presses anything itself.
//   ward_tray_e2e_harness <agent socket>
// Lines (fields separated by one space; geometry is x y width height in screen pixels):
//   ICON x y w h              the icon is embedded in the tray
//   SHOWN <what> x y w h      a window appeared: menu, aup, concern, policy
//   HIDDEN <what>
//   FOCUS <accessible name>   keyboard focus moved (the window's own name for a window)
//   AUP-ACCEPTED              the agreement dialog says thank you
//   POLICY-READY              the policy view shows the agent's summary
//   TEXT <text>               what the concern dialog's text box holds (when it changes)
//   SENT <reference> <category> <text>   the concern dialog shows the reference code; category
//                             and text are what the dialog's form held
//   RECEIVED <reference>      the dialog says "Received by the safeguarding team"
#include <QAbstractButton>
#include <QApplication>
#include <QComboBox>
#include <QElapsedTimer>
#include <QLabel>
#include <QMenu>
#include <QPlainTextEdit>
#include <QSet>
#include <QSystemTrayIcon>
#include <QTextBrowser>
#include <QThread>
#include <QTimer>

#include <cstdio>

#include "ward/tray/concern_dialog.h"
#include "ward/tray/info_dialogs.h"
#include "ward/tray/tray_controller.h"
#include "ward/v1/event.pb.h"

namespace {

void Say(const QString& line) {
  std::printf("%s\n", qPrintable(line));
  std::fflush(stdout);
}

QString Geometry(const QRect& r) {
  return QStringLiteral("%1 %2 %3 %4").arg(r.x()).arg(r.y()).arg(r.width()).arg(r.height());
}

QString OneLine(QString text) { return text.replace(QLatin1Char('\n'), QLatin1Char(' ')); }

// What kind of window `w` is, or empty for one the test does not follow.
QString Kind(QWidget* w, const ward::tray::TrayController& tray) {
  if (w == tray.menu()) {
    return QStringLiteral("menu");
  }
  if (qobject_cast<ward::tray::ConcernDialog*>(w) != nullptr) {
    return QStringLiteral("concern");
  }
  if (qobject_cast<ward::tray::PolicyDialog*>(w) != nullptr) {
    return QStringLiteral("policy");
  }
  if (qobject_cast<ward::tray::AupDialog*>(w) != nullptr) {
    return QStringLiteral("aup");
  }
  return {};
}

QString Name(QWidget* w) {
  if (w == nullptr) {
    return QStringLiteral("(none)");
  }
  if (!w->accessibleName().isEmpty()) {
    return OneLine(w->accessibleName());
  }
  if (auto* button = qobject_cast<QAbstractButton*>(w); button != nullptr) {
    return OneLine(button->text().remove(QLatin1Char('&')));
  }
  return QString::fromLatin1(w->metaObject()->className());
}

}  // namespace

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  QApplication::setQuitOnLastWindowClosed(false);
  if (argc != 2) {
    std::fprintf(stderr, "usage: ward_tray_e2e_harness <agent socket>\n");
    return 2;
  }
  // The tray host may still be taking the tray selection as this starts.
  QElapsedTimer since_start;
  since_start.start();
  while (!QSystemTrayIcon::isSystemTrayAvailable() && since_start.elapsed() < 10'000) {
    QApplication::processEvents(QEventLoop::AllEvents, 50);
    QThread::msleep(50);
  }
  ward::tray::TrayController tray(QString::fromLocal8Bit(argv[1]));
  if (!tray.usesTray()) {
    std::fprintf(stderr, "no system tray on this display\n");
    return 1;
  }

  QObject::connect(&app, &QApplication::focusChanged,
                   [](QWidget*, QWidget* now) { Say(QStringLiteral("FOCUS ") + Name(now)); });

  bool icon_said = false;
  bool aup_said = false;
  bool policy_said = false;
  QSet<QString> shown;
  QString typed;
  QString sent;
  QString received;
  QTimer watch;
  watch.setInterval(50);
  QObject::connect(&watch, &QTimer::timeout, [&] {
    // The tray host has embedded the icon once it has a place on the screen.
    if (const QRect icon = tray.trayIcon()->geometry();
        !icon_said && icon.isValid() && icon.width() > 1 && icon.x() > 0) {
      icon_said = true;
      Say(QStringLiteral("ICON ") + Geometry(icon));
    }
    QSet<QString> visible;
    for (QWidget* w : QApplication::topLevelWidgets()) {
      const QString kind = Kind(w, tray);
      if (kind.isEmpty() || !w->isVisible()) {
        continue;
      }
      visible.insert(kind);
      if (!shown.contains(kind)) {
        Say(QStringLiteral("SHOWN %1 %2").arg(kind, Geometry(w->frameGeometry())));
      }
      if (auto* aup = qobject_cast<ward::tray::AupDialog*>(w); aup != nullptr && !aup_said) {
        for (QLabel* label : aup->findChildren<QLabel*>()) {
          if (label->text().startsWith(QStringLiteral("Thank you"))) {
            aup_said = true;
            Say(QStringLiteral("AUP-ACCEPTED"));
          }
        }
      }
      if (auto* policy = qobject_cast<ward::tray::PolicyDialog*>(w);
          policy != nullptr && !policy_said && !policy->body()->toPlainText().isEmpty()) {
        policy_said = true;
        Say(QStringLiteral("POLICY-READY"));
      }
      if (auto* concern = qobject_cast<ward::tray::ConcernDialog*>(w); concern != nullptr) {
        if (const QString text = OneLine(concern->textEdit()->toPlainText()); text != typed) {
          typed = text;
          Say(QStringLiteral("TEXT ") + typed);
        }
        if (!concern->reference().isEmpty() && concern->reference() != sent &&
            concern->resultLabel()->text().contains(concern->reference())) {
          sent = concern->reference();
          const auto category =
              static_cast<ward::v1::ConcernCategory>(concern->categoryBox()->currentData().toInt());
          Say(QStringLiteral("SENT %1 %2 %3")
                  .arg(sent, QString::fromStdString(ward::v1::ConcernCategory_Name(category)),
                       OneLine(concern->textEdit()->toPlainText().trimmed())));
        }
        if (!sent.isEmpty() && received != sent &&
            concern->receivedLabel()->text().startsWith(QStringLiteral("Received"))) {
          received = sent;
          Say(QStringLiteral("RECEIVED ") + received);
        }
      }
    }
    for (const QString& kind : shown) {
      if (!visible.contains(kind)) {
        Say(QStringLiteral("HIDDEN ") + kind);
      }
    }
    shown = visible;
  });
  watch.start();
  return QApplication::exec();
}

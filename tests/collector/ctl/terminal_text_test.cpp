// SPDX-License-Identifier: Apache-2.0
#include "ward/ctl/terminal_text.h"

#include <gtest/gtest.h>

namespace ward::ctl {
namespace {

TEST(TerminalTextTest, PrintableTextAndEveryLanguageArePrintedAsTheyAre) {
  EXPECT_EQ(ForTerminal("someone is bullying me"), "someone is bullying me");
  EXPECT_EQ(ForTerminal("Mae rhywun yn fy mwlio \xF0\x9F\x98\xA2 \xC5\xBC\xC3\xB3\xC5\x82w"),
            "Mae rhywun yn fy mwlio \xF0\x9F\x98\xA2 \xC5\xBC\xC3\xB3\xC5\x82w");
  EXPECT_EQ(ForTerminal("a\tb"), "a\tb");
}

TEST(TerminalTextTest, EscapeSequencesCannotClearTheScreenOrWriteTheClipboard) {
  // Clear the screen, go home, and print a fake line.
  EXPECT_EQ(ForTerminal("\x1b[2J\x1b[HAll fine, closed by DSL"),
            "\\x1b[2J\\x1b[HAll fine, closed by DSL");
  // OSC 52: set the clipboard, ended by BEL.
  EXPECT_EQ(ForTerminal("\x1b]52;c;Y3VybCBldmlsLnNoIHwgc2g=\x07"),
            "\\x1b]52;c;Y3VybCBldmlsLnNoIHwgc2g=\\x07");
  EXPECT_EQ(ForTerminal("ok\rfake"), "ok\\rfake");
  EXPECT_EQ(ForTerminal("line\nnext"), "line\\nnext");
  EXPECT_EQ(ForTerminal(std::string_view("nul\0byte", 8)), "nul\\x00byte");
  EXPECT_EQ(ForTerminal("del\x7f"), "del\\x7f");
}

TEST(TerminalTextTest, C1ControlsBidiOverridesAndBadUtf8AreMadeVisible) {
  EXPECT_EQ(ForTerminal("\xC2\x9B"
                        "2J"),
            "\\u009b2J");  // C1 CSI
  EXPECT_EQ(ForTerminal("abc\xE2\x80\xAE"
                        "fed"),
            "abc\\u202efed");  // RIGHT-TO-LEFT OVERRIDE
  EXPECT_EQ(ForTerminal("\xE2\x81\xA6x\xE2\x81\xA9"), "\\u2066x\\u2069");
  EXPECT_EQ(ForTerminal("\xE2\x80\xA8"), "\\u2028");
  EXPECT_EQ(ForTerminal("bad \xFF\xC0\xAF end"), "bad \\xff\\xc0\\xaf end");  // overlong '/'
  EXPECT_EQ(ForTerminal("\xED\xA0\x80"), "\\xed\\xa0\\x80");                  // a surrogate
  EXPECT_EQ(ForTerminal("cut \xE2\x80"), "cut \\xe2\\x80");                   // truncated
}

TEST(TerminalTextTest, LinesKeepTheirBreaksInsideAnIndentedBlock) {
  EXPECT_EQ(ForTerminalLines("first\nsecond\r\nthird", "    "), "first\n    second\\r\n    third");
  EXPECT_EQ(ForTerminalLines("\x1b[1A\x1b[2Kclosed", "  "), "\\x1b[1A\\x1b[2Kclosed");
}

}  // namespace
}  // namespace ward::ctl

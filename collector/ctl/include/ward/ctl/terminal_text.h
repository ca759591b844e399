// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>
#include <string_view>

namespace ward::ctl {

// Text that came from outside wardctl (a learner's concern, a laptop's host name, a collector's
// error message) made safe to print on a staff member's terminal: every byte or character that a
// terminal would act on instead of showing is replaced by a visible escape, so a concern cannot
// clear the DSL's screen, move the cursor, write the clipboard (OSC 52) or reorder what is shown.
//
// Made visible: C0 controls (ESC as \x1b, CR as \r, ...), DEL, C1 controls (U+0080-U+009F, as
// \u009b), Unicode bidirectional controls and line/paragraph separators (as \u202e), and bytes
// that are not valid UTF-8 (as \xff). Kept: printable ASCII, tab, and every other valid UTF-8
// character (a learner may write in Welsh, Polish or emoji).
std::string ForTerminal(std::string_view untrusted);

// As ForTerminal, but line breaks stay line breaks: each line after the first starts with
// `indent`, so a multi-line text reads as one indented block under its heading.
std::string ForTerminalLines(std::string_view untrusted, std::string_view indent);

}  // namespace ward::ctl

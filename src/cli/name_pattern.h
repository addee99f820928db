// The command line's --tensor filter: an ECMAScript regular expression searched for in tensor
// names, in time linear in the name's length (a Thompson NFA run over the name once, every
// state at most once per byte) and constant stack. std::regex backtracks: a 50,000-byte name
// against 'a.*b' overflowed its recursion (SIGSEGV), and (x+)+y-like patterns take exponential
// time on names a file chooses.
//
// The syntax: literals, '.', classes [a-z_] and [^…], the escapes \d \D \w \W \s \S \b \B \t \n
// \r \f \v \0 \xHH \uHHHH (code points up to 0xFF) and any escaped punctuation, groups (…),
// (?:…) and (?<name>…), alternation |, the quantifiers * + ? {n} {n,} {n,m} (each also lazy,
// which does not change whether a name matches), and the anchors ^ and $. Names are matched byte
// by byte, as std::regex<char> matched them. Backreferences and lookaround have no linear-time
// form and are refused, as are patterns whose automaton would exceed kMaxStates.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace qe::cli {

class NamePattern {
 public:
  static constexpr size_t kMaxStates = 100'000;
  static constexpr int kMaxRepeat = 1000;

  // The compiled pattern, or the reason it cannot be one.
  static std::variant<NamePattern, std::string> compile(std::string_view pattern);
  // Whether some part of `name` matches (std::regex_search's question).
  bool search(std::string_view name) const;

  struct Inst {
    enum Op : uint8_t { Set, Split, Jump, Begin, End, WordEdge, NotWordEdge, Match } op;
    uint32_t x = 0, y = 0;  // Set: the index of its set of bytes; Split: both ways; Jump: x
  };

 private:
  std::vector<Inst> prog_;
  std::vector<std::array<uint64_t, 4>> sets_;
  friend class PatternCompiler;
};

}  // namespace qe::cli

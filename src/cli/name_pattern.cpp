#include "name_pattern.h"

#include <array>
#include <utility>

namespace qe::cli {

namespace {

using Bits = std::array<uint64_t, 4>;  // a set of bytes

void add(Bits& s, unsigned c) { s[c >> 6] |= uint64_t{1} << (c & 63); }
bool has(const Bits& s, unsigned c) { return (s[c >> 6] >> (c & 63)) & 1; }
void add_range(Bits& s, unsigned lo, unsigned hi) {
  for (unsigned c = lo; c <= hi; ++c) add(s, c);
}
Bits invert(Bits s) {
  for (auto& w : s) w = ~w;
  return s;
}
Bits unite(Bits a, const Bits& b) {
  for (size_t i = 0; i < 4; ++i) a[i] |= b[i];
  return a;
}

bool is_word(unsigned c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'; }

Bits digits() {
  Bits s{};
  add_range(s, '0', '9');
  return s;
}
Bits words() {
  Bits s{};
  for (unsigned c = 0; c < 256; ++c)
    if (is_word(c)) add(s, c);
  return s;
}
Bits spaces() {  // ECMAScript's white space and line terminators, as bytes
  Bits s{};
  for (unsigned c : {' ', '\t', '\n', '\v', '\f', '\r'}) add(s, c);
  return s;
}
Bits any_but_newline() {  // '.': every byte but the line terminators \n and \r
  Bits s = invert(Bits{});
  s['\n' >> 6] &= ~(uint64_t{1} << ('\n' & 63));
  s['\r' >> 6] &= ~(uint64_t{1} << ('\r' & 63));
  return s;
}

// The pattern as a tree, then as a program for the NFA.
struct Node {
  enum Kind { Empty, Set, Begin, End, WordEdge, NotWordEdge, Concat, Alt, Repeat } kind = Empty;
  Bits set{};
  std::vector<Node> kids;
  int min = 0, max = 0;  // Repeat: max -1 for no bound
};

}  // namespace

class PatternCompiler {
 public:
  explicit PatternCompiler(std::string_view p) : p_(p) {}

  std::variant<NamePattern, std::string> run() {
    Node tree;
    if (!alternation(tree, 0)) return error_;
    if (at_ < p_.size()) return fail("an unmatched ')'"), error_;
    NamePattern out;
    if (!emit(tree, out)) return error_;
    out.prog_.push_back({NamePattern::Inst::Match});
    return out;
  }

 private:
  std::string_view p_;
  size_t at_ = 0;
  std::string error_;

  bool fail(const std::string& why) {
    if (error_.empty()) error_ = why + " at character " + std::to_string(at_ + 1);
    return false;
  }
  bool more() const { return at_ < p_.size(); }
  char peek() const { return p_[at_]; }

  bool alternation(Node& out, int depth) {
    if (depth > 200) return fail("nesting too deep");
    Node alt;
    alt.kind = Node::Alt;
    while (true) {
      Node seq;
      if (!sequence(seq, depth)) return false;
      alt.kids.push_back(std::move(seq));
      if (!more() || peek() != '|') break;
      ++at_;
    }
    out = alt.kids.size() == 1 ? std::move(alt.kids[0]) : std::move(alt);
    return true;
  }

  bool sequence(Node& out, int depth) {
    out.kind = Node::Concat;
    while (more() && peek() != '|' && peek() != ')') {
      Node atom;
      bool assertion = false;
      if (!this->atom(atom, depth, assertion)) return false;
      if (more() && (peek() == '*' || peek() == '+' || peek() == '?' || peek() == '{')) {
        int lo = 0, hi = -1;
        const size_t start = at_;
        if (peek() == '*') ++at_;
        else if (peek() == '+') lo = 1, ++at_;
        else if (peek() == '?') hi = 1, ++at_;
        else if (!braces(lo, hi)) return false;
        if (assertion) return at_ = start, fail("nothing to repeat");
        if (more() && peek() == '?') ++at_;  // lazy: the same names match
        if (more() && (peek() == '*' || peek() == '+' || peek() == '?' || peek() == '{')) return fail("nothing to repeat");
        Node r;
        r.kind = Node::Repeat;
        r.min = lo;
        r.max = hi;
        r.kids.push_back(std::move(atom));
        atom = std::move(r);
      }
      out.kids.push_back(std::move(atom));
    }
    return true;
  }

  // {n}, {n,} or {n,m}, each at most kMaxRepeat.
  bool braces(int& lo, int& hi) {
    ++at_;
    const auto number = [&](int& v) {
      const size_t start = at_;
      v = 0;
      while (more() && peek() >= '0' && peek() <= '9') {
        v = v * 10 + (peek() - '0');
        if (v > NamePattern::kMaxRepeat) return fail("a repeat count above " + std::to_string(NamePattern::kMaxRepeat));
        ++at_;
      }
      return at_ > start;
    };
    if (!number(lo)) return error_.empty() ? fail("a '{' that is not a repeat such as {2,4} (write \\{ for the character)") : false;
    hi = lo;
    if (more() && peek() == ',') {
      ++at_;
      hi = -1;
      if (more() && peek() != '}' && !number(hi)) return error_.empty() ? fail("a repeat such as {2,4} that does not end") : false;
    }
    if (!more() || peek() != '}') return fail("a repeat such as {2,4} that does not end");
    ++at_;
    if (hi != -1 && hi < lo) return fail("a repeat {n,m} with m below n");
    return true;
  }

  static Node set_node(const Bits& s) {
    Node n;
    n.kind = Node::Set;
    n.set = s;
    return n;
  }
  static Node byte_node(unsigned c) {
    Bits s{};
    add(s, c);
    return set_node(s);
  }

  bool atom(Node& out, int depth, bool& assertion) {
    const char c = peek();
    switch (c) {
      case '(': {
        ++at_;
        if (p_.substr(at_, 2) == "?=" || p_.substr(at_, 2) == "?!" || p_.substr(at_, 3) == "?<=" || p_.substr(at_, 3) == "?<!")
          return fail("lookaround, which has no linear-time form,");
        if (p_.substr(at_, 2) == "?:") {
          at_ += 2;
        } else if (p_.substr(at_, 2) == "?<") {
          const size_t close = p_.find('>', at_);
          if (close == std::string_view::npos) return fail("a group name that does not end");
          at_ = close + 1;
        } else if (more() && peek() == '?') {
          return fail("an unknown group (?");
        }
        if (!alternation(out, depth + 1)) return false;
        if (!more() || peek() != ')') return fail("a '(' that is not closed");
        ++at_;
        return true;
      }
      case '[': return klass(out);
      case '.': ++at_, out = set_node(any_but_newline()); return true;
      case '^': ++at_, out.kind = Node::Begin, assertion = true; return true;
      case '$': ++at_, out.kind = Node::End, assertion = true; return true;
      case '*': case '+': case '?': return fail("nothing to repeat");
      case '{': {
        int lo = 0, hi = 0;
        const size_t start = at_;
        if (braces(lo, hi)) return at_ = start, fail("nothing to repeat");
        return false;
      }
      case '\\': {
        ++at_;
        if (!more()) return fail("a '\\' at the end");
        const char e = peek();
        if (e == 'b' || e == 'B') {
          ++at_;
          out.kind = e == 'b' ? Node::WordEdge : Node::NotWordEdge;
          assertion = true;
          return true;
        }
        Bits s{};
        if (!escape(s, false)) return false;
        out = set_node(s);
        return true;
      }
      default: ++at_, out = byte_node(static_cast<unsigned char>(c)); return true;
    }
  }

  // After a '\': the byte or class it stands for, added to s. In a class, \b is a backspace.
  bool escape(Bits& s, bool in_class) {
    const char e = peek();
    ++at_;
    const auto hex = [&](int n) -> int {
      int v = 0;
      for (int i = 0; i < n; ++i, ++at_) {
        if (!more()) return -1;
        const char h = peek();
        const int d = h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10 : h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;
        if (d < 0) return -1;
        v = v * 16 + d;
      }
      return v;
    };
    switch (e) {
      case 'd': s = unite(s, digits()); return true;
      case 'D': s = unite(s, invert(digits())); return true;
      case 'w': s = unite(s, words()); return true;
      case 'W': s = unite(s, invert(words())); return true;
      case 's': s = unite(s, spaces()); return true;
      case 'S': s = unite(s, invert(spaces())); return true;
      case 't': add(s, '\t'); return true;
      case 'n': add(s, '\n'); return true;
      case 'r': add(s, '\r'); return true;
      case 'f': add(s, '\f'); return true;
      case 'v': add(s, '\v'); return true;
      case 'b':
        if (!in_class) break;
        add(s, '\b');
        return true;
      case '0':
        if (more() && peek() >= '0' && peek() <= '9') return fail("an octal escape");
        add(s, 0);
        return true;
      case 'x': case 'u': {
        const int v = hex(e == 'x' ? 2 : 4);
        if (v < 0) return fail(e == 'x' ? "a \\x escape without two hex digits" : "a \\u escape without four hex digits");
        if (v > 0xFF) return fail("a code point above \\xFF (names are matched byte by byte: write its UTF-8 bytes)");
        add(s, static_cast<unsigned>(v));
        return true;
      }
      case 'c':
        if (more() && ((peek() >= 'a' && peek() <= 'z') || (peek() >= 'A' && peek() <= 'Z'))) {
          add(s, static_cast<unsigned char>(peek()) % 32);
          ++at_;
          return true;
        }
        return fail("a \\c escape without a letter");
      default: break;
    }
    if (e >= '1' && e <= '9') return --at_, fail("a backreference, which has no linear-time form,");
    if (e == 'k') return --at_, fail("a named backreference, which has no linear-time form,");
    if ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') || (e >= '0' && e <= '9') || e == '_')
      return --at_, fail(std::string("an unknown escape \\") + e);
    add(s, static_cast<unsigned char>(e));  // escaped punctuation stands for itself
    return true;
  }

  // [...] and [^...]: bytes, ranges a-z, and the class escapes.
  bool klass(Node& out) {
    ++at_;
    bool negate = false;
    if (more() && peek() == '^') negate = true, ++at_;
    Bits s{};
    // One member: a single byte (returned) or a class escape (added to s, -1 returned).
    const auto member = [&](int& byte) -> bool {
      if (peek() == '\\') {
        ++at_;
        if (!more()) return fail("a '\\' at the end");
        const char e = peek();
        Bits one{};
        if (!escape(one, true)) return false;
        if (e == 'd' || e == 'D' || e == 'w' || e == 'W' || e == 's' || e == 'S') {
          s = unite(s, one);
          byte = -1;
        } else {
          for (unsigned c = 0; c < 256; ++c)
            if (has(one, c)) byte = static_cast<int>(c);
        }
        return true;
      }
      byte = static_cast<unsigned char>(peek());
      ++at_;
      return true;
    };
    while (true) {
      if (!more()) return fail("a '[' that is not closed");
      if (peek() == ']') {
        ++at_;
        break;
      }
      int lo = -1;
      if (!member(lo)) return false;
      if (more() && peek() == '-' && at_ + 1 < p_.size() && p_[at_ + 1] != ']') {
        ++at_;
        int hi = -1;
        if (!member(hi)) return false;
        if (lo < 0 || hi < 0) {  // [\d-z]: the '-' is itself
          if (lo >= 0) add(s, static_cast<unsigned>(lo));
          if (hi >= 0) add(s, static_cast<unsigned>(hi));
          add(s, '-');
          continue;
        }
        if (hi < lo) return fail("a range out of order in [...]");
        add_range(s, static_cast<unsigned>(lo), static_cast<unsigned>(hi));
        continue;
      }
      if (lo >= 0) add(s, static_cast<unsigned>(lo));
    }
    out = set_node(negate ? invert(s) : s);
    return true;
  }

  // The program: Set consumes a byte in the set; Split forks; Jump goes on; the assertions
  // check the place. Sizes are checked as the program grows.
  bool emit(const Node& n, NamePattern& out) {
    using Inst = NamePattern::Inst;
    auto& prog = out.prog_;
    if (prog.size() > NamePattern::kMaxStates) return fail("a pattern too large (more than " + std::to_string(NamePattern::kMaxStates) + " states)");
    switch (n.kind) {
      case Node::Empty: return true;
      case Node::Set: {
        uint32_t k = 0;
        while (k < out.sets_.size() && out.sets_[k] != n.set) ++k;
        if (k == out.sets_.size()) out.sets_.push_back(n.set);
        prog.push_back({Inst::Set, k, 0});
        return true;
      }
      case Node::Begin: prog.push_back({Inst::Begin}); return true;
      case Node::End: prog.push_back({Inst::End}); return true;
      case Node::WordEdge: prog.push_back({Inst::WordEdge}); return true;
      case Node::NotWordEdge: prog.push_back({Inst::NotWordEdge}); return true;
      case Node::Concat:
        for (const Node& k : n.kids)
          if (!emit(k, out)) return false;
        return true;
      case Node::Alt: {
        // Split L1, next; L1: a; Jump end; next: Split L2, … ; last alternative; end:
        std::vector<size_t> jumps;
        for (size_t i = 0; i < n.kids.size(); ++i) {
          size_t split = 0;
          if (i + 1 < n.kids.size()) {
            split = prog.size();
            prog.push_back({Inst::Split, static_cast<uint32_t>(prog.size() + 1), 0});
          }
          if (!emit(n.kids[i], out)) return false;
          if (i + 1 < n.kids.size()) {
            jumps.push_back(prog.size());
            prog.push_back({Inst::Jump});
            prog[split].y = static_cast<uint32_t>(prog.size());
          }
        }
        for (size_t j : jumps) prog[j].x = static_cast<uint32_t>(prog.size());
        return true;
      }
      case Node::Repeat: {
        for (int i = 0; i < n.min; ++i)
          if (!emit(n.kids[0], out)) return false;
        if (n.max == -1) {  // L: Split body, end; body; Jump L; end:
          const size_t loop = prog.size();
          prog.push_back({Inst::Split, static_cast<uint32_t>(loop + 1), 0});
          if (!emit(n.kids[0], out)) return false;
          prog.push_back({Inst::Jump, static_cast<uint32_t>(loop), 0});
          prog[loop].y = static_cast<uint32_t>(prog.size());
          return true;
        }
        std::vector<size_t> splits;  // each optional copy: Split body, end
        for (int i = n.min; i < n.max; ++i) {
          splits.push_back(prog.size());
          prog.push_back({Inst::Split, static_cast<uint32_t>(prog.size() + 1), 0});
          if (!emit(n.kids[0], out)) return false;
        }
        for (size_t s : splits) prog[s].y = static_cast<uint32_t>(prog.size());
        return true;
      }
    }
    return true;
  }
};

std::variant<NamePattern, std::string> NamePattern::compile(std::string_view pattern) { return PatternCompiler(pattern).run(); }

bool NamePattern::search(std::string_view name) const {
  // Two sparse sets of states (the current and the next byte's), each state at most once per
  // byte; a thread starts at every byte (the search is unanchored).
  const size_t n = prog_.size();
  struct List {
    std::vector<uint32_t> dense, where;
    size_t size = 0;
    explicit List(size_t states) : dense(states), where(states) {}
    bool has(uint32_t pc) const { return where[pc] < size && dense[where[pc]] == pc; }
    void insert(uint32_t pc) { where[pc] = static_cast<uint32_t>(size), dense[size++] = pc; }
  };
  List current(n), next(n);
  std::vector<uint32_t> stack;
  const auto word_at = [&](size_t i) { return i < name.size() && is_word(static_cast<unsigned char>(name[i])); };
  // Adds pc and everything it reaches without a byte, at position `at`; true when Match is reached.
  const auto reach = [&](List& list, uint32_t start, size_t at) {
    stack.assign(1, start);
    while (!stack.empty()) {
      const uint32_t pc = stack.back();
      stack.pop_back();
      if (list.has(pc)) continue;
      list.insert(pc);
      const Inst& i = prog_[pc];
      switch (i.op) {
        case Inst::Match: return true;
        case Inst::Jump: stack.push_back(i.x); break;
        case Inst::Split: stack.push_back(i.y), stack.push_back(i.x); break;
        case Inst::Begin: if (at == 0) stack.push_back(pc + 1); break;
        case Inst::End: if (at == name.size()) stack.push_back(pc + 1); break;
        case Inst::WordEdge: if ((at > 0 && word_at(at - 1)) != word_at(at)) stack.push_back(pc + 1); break;
        case Inst::NotWordEdge: if ((at > 0 && word_at(at - 1)) == word_at(at)) stack.push_back(pc + 1); break;
        case Inst::Set: break;  // waits for the next byte
      }
    }
    return false;
  };
  if (reach(current, 0, 0)) return true;
  for (size_t at = 0; at < name.size(); ++at) {
    const unsigned c = static_cast<unsigned char>(name[at]);
    next.size = 0;
    for (size_t k = 0; k < current.size; ++k) {
      const uint32_t pc = current.dense[k];
      const Inst& i = prog_[pc];
      if (i.op == Inst::Set && has(sets_[i.x], c) && reach(next, pc + 1, at + 1)) return true;
    }
    if (reach(next, 0, at + 1)) return true;
    std::swap(current, next);
  }
  return false;
}

}  // namespace qe::cli

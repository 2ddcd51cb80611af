//! Parser: turns tokens into trees, one per template name (`define` and `block` add
//! more), following the grammar and the error messages of Go's `parse` package.

use std::collections::HashMap;

use crate::ast::{Branch, List, Node, is_empty_tree};
pub(crate) use crate::lex::LexOptions;
use crate::lex::{Kind, Token, lex};

mod pipeline;
use crate::literal::unquote;

/// Limit on nesting of parenthesised pipelines (Go's value) and, here also, of control
/// structures, which Go leaves unbounded. Recursion runs on a growable stack
/// (`crate::stack::grow`), so the limit bounds memory, not stack size.
const MAX_STACK_DEPTH: usize = 10_000;

/// A parse failure, already formatted like Go's (`template: name:1: ...`).
#[derive(Debug)]
pub struct ParseError(pub String);

type Result<T> = std::result::Result<T, ParseError>;

/// Per-tree state: Go starts a fresh tree for each `define` and `block`.
struct TreeState {
    vars: Vec<String>,
    range_depth: usize,
    action_line: usize,
}

impl TreeState {
    fn new() -> Self {
        TreeState {
            vars: vec!["$".to_owned()],
            range_depth: 0,
            action_line: 0,
        }
    }
}

struct Parser<'a> {
    parse_name: &'a str,
    tokens: Vec<Token>,
    index: usize,
    /// Furthest token handed out; Go reports its line in parse errors.
    furthest: usize,
    has_function: &'a dyn Fn(&str) -> bool,
    trees: HashMap<String, List>,
    tree: TreeState,
    stack_depth: usize,
}

/// Parses `text` as template `name`; returns every tree it defines, `name` included.
pub fn parse(
    name: &str,
    text: &str,
    options: &LexOptions,
    has_function: &dyn Fn(&str) -> bool,
) -> std::result::Result<HashMap<String, List>, ParseError> {
    let mut parser = Parser::new(name, text, options, has_function);
    let root = parser.parse_top()?;
    parser.add(name, root)?;
    Ok(parser.trees)
}

/// Like [`parse`], but returns the main tree apart from the `define`d ones, without
/// adding it under `name` (so the result can serve any template name).
pub fn parse_split(
    name: &str,
    text: &str,
    options: &LexOptions,
    has_function: &dyn Fn(&str) -> bool,
) -> std::result::Result<(List, HashMap<String, List>), ParseError> {
    let mut parser = Parser::new(name, text, options, has_function);
    let root = parser.parse_top()?;
    Ok((root, parser.trees))
}

impl<'a> Parser<'a> {
    fn new(
        name: &'a str,
        text: &str,
        options: &LexOptions,
        has_function: &'a dyn Fn(&str) -> bool,
    ) -> Self {
        Parser {
            parse_name: name,
            tokens: lex(text, options),
            index: 0,
            furthest: 0,
            has_function,
            trees: HashMap::new(),
            tree: TreeState::new(),
            stack_depth: 0,
        }
    }

    fn next(&mut self) -> Token {
        // Reading past the end keeps returning the final EOF or error token.
        let index = self.index.min(self.tokens.len() - 1);
        self.furthest = self.furthest.max(index);
        self.index += 1;
        self.tokens[index].clone()
    }

    fn backup(&mut self) {
        self.index -= 1;
    }

    fn peek(&mut self) -> Token {
        let token = self.next();
        self.backup();
        token
    }

    fn next_non_space(&mut self) -> Token {
        loop {
            let token = self.next();
            if token.kind != Kind::Space {
                return token;
            }
        }
    }

    fn peek_non_space(&mut self) -> Token {
        let token = self.next_non_space();
        self.backup();
        token
    }

    fn error<T>(&self, message: impl Into<String>) -> Result<T> {
        let line = self.tokens[self.furthest.min(self.tokens.len() - 1)].line;
        Err(ParseError(format!(
            "template: {}:{line}: {}",
            self.parse_name,
            message.into()
        )))
    }

    fn unexpected<T>(&self, token: &Token, context: &str) -> Result<T> {
        if token.kind == Kind::Error {
            let mut extra = String::new();
            if self.tree.action_line != 0 && self.tree.action_line != token.line {
                extra = format!(
                    " in action started at {}:{}",
                    self.parse_name, self.tree.action_line
                );
                if token.text.ends_with(" action") {
                    extra = extra[" in action".len()..].to_owned();
                }
            }
            return self.error(format!("{}{extra}", token.text));
        }
        self.error(format!("unexpected {} in {context}", token.describe()))
    }

    fn expect(&mut self, kind: Kind, context: &str) -> Result<Token> {
        let token = self.next_non_space();
        if token.kind != kind {
            return self.unexpected(&token, context);
        }
        Ok(token)
    }

    /// Go's `Tree.add`: a second non-empty definition in one parse is an error.
    fn add(&mut self, name: &str, root: List) -> Result<()> {
        match self.trees.get(name) {
            Some(existing) if !is_empty_tree(existing) => {
                if !is_empty_tree(&root) {
                    return self.error(format!(
                        "template: multiple definition of template {}",
                        crate::format::quote(name, false)
                    ));
                }
            }
            _ => {
                self.trees.insert(name.to_owned(), root);
            }
        }
        Ok(())
    }

    fn parse_top(&mut self) -> Result<List> {
        let mut root = List::default();
        while self.peek().kind != Kind::Eof {
            if self.peek().kind == Kind::LeftDelim {
                let delimiter_index = self.index;
                self.next();
                if self.next_non_space().kind == Kind::Define {
                    let outer = std::mem::replace(&mut self.tree, TreeState::new());
                    let result = self.parse_definition();
                    self.tree = outer;
                    result?;
                    continue;
                }
                self.index = delimiter_index;
            }
            match self.text_or_action()? {
                Item::Node(node) => root.nodes.push(node),
                Item::End => return self.error("unexpected {{end}}"),
                Item::Else => return self.error("unexpected {{else}}"),
            }
        }
        Ok(root)
    }

    fn parse_definition(&mut self) -> Result<()> {
        const CONTEXT: &str = "define clause";
        let token = self.next_non_space();
        if !matches!(token.kind, Kind::String | Kind::RawString) {
            return self.unexpected(&token, CONTEXT);
        }
        let name = match unquote(&token.text) {
            Ok(name) => name,
            Err(message) => return self.error(message),
        };
        self.expect(Kind::RightDelim, CONTEXT)?;
        let (list, end) = self.item_list()?;
        if !matches!(end, Item::End) {
            return self.error(format!("unexpected {} in {CONTEXT}", end.describe()));
        }
        self.add(&name, list)
    }

    /// Nodes up to `{{end}}` or `{{else}}`; returns which one ended the list.
    fn item_list(&mut self) -> Result<(List, Item)> {
        let mut list = List::default();
        while self.peek_non_space().kind != Kind::Eof {
            match self.text_or_action()? {
                Item::Node(node) => list.nodes.push(node),
                end @ (Item::End | Item::Else) => return Ok((list, end)),
            }
        }
        self.error("unexpected EOF")
    }

    fn text_or_action(&mut self) -> Result<Item> {
        let token = self.next_non_space();
        match token.kind {
            Kind::Text => Ok(Item::Node(Node::Text(token.text))),
            Kind::LeftDelim => {
                self.tree.action_line = token.line;
                let result = self.action();
                self.tree.action_line = 0;
                result
            }
            _ => self.unexpected(&token, "input"),
        }
    }

    fn action(&mut self) -> Result<Item> {
        let token = self.next_non_space();
        match token.kind {
            Kind::Block => return self.block_control().map(Item::Node),
            Kind::Break | Kind::Continue => return self.loop_control(&token).map(Item::Node),
            Kind::Else => return self.else_control(),
            Kind::End => {
                self.expect(Kind::RightDelim, "end")?;
                return Ok(Item::End);
            }
            Kind::If => return self.branch("if").map(|b| Item::Node(Node::If(b))),
            Kind::Range => return self.branch("range").map(|b| Item::Node(Node::Range(b))),
            Kind::Template => return self.template_control().map(Item::Node),
            Kind::With => return self.branch("with").map(|b| Item::Node(Node::With(b))),
            _ => {}
        }
        self.backup();
        let pos = self.peek().pos;
        let pipe = self.pipeline("command", Kind::RightDelim)?;
        Ok(Item::Node(Node::Action { pos, pipe }))
    }

    fn loop_control(&mut self, keyword: &Token) -> Result<Node> {
        let name = if keyword.kind == Kind::Break {
            "break"
        } else {
            "continue"
        };
        let token = self.next_non_space();
        if token.kind != Kind::RightDelim {
            return self.unexpected(&token, &format!("{{{{{name}}}}}"));
        }
        if self.tree.range_depth == 0 {
            return self.error(format!("{{{{{name}}}}} outside {{{{range}}}}"));
        }
        Ok(if keyword.kind == Kind::Break {
            Node::Break { pos: keyword.pos }
        } else {
            Node::Continue { pos: keyword.pos }
        })
    }

    fn else_control(&mut self) -> Result<Item> {
        let peek = self.peek_non_space();
        if matches!(peek.kind, Kind::If | Kind::With) {
            return Ok(Item::Else);
        }
        self.expect(Kind::RightDelim, "else")?;
        Ok(Item::Else)
    }

    /// `if`, `range` and `with`, including `else if` / `else with` chains.
    fn branch(&mut self, context: &str) -> Result<Branch> {
        if self.stack_depth >= MAX_STACK_DEPTH {
            return self.error("max nesting depth exceeded");
        }
        self.stack_depth += 1;
        let saved_vars = self.tree.vars.len();
        let result = crate::stack::grow(|| self.branch_inner(context));
        self.tree.vars.truncate(saved_vars);
        self.stack_depth -= 1;
        result
    }

    fn branch_inner(&mut self, context: &str) -> Result<Branch> {
        let pipe = self.pipeline(context, Kind::RightDelim)?;
        if context == "range" {
            self.tree.range_depth += 1;
        }
        let listed = self.item_list();
        if context == "range" {
            self.tree.range_depth -= 1;
        }
        let (list, end) = listed?;
        let mut else_list = None;
        if matches!(end, Item::Else) {
            let next = self.peek().kind;
            if context == "if" && next == Kind::If {
                self.next();
                else_list = Some(List {
                    nodes: vec![Node::If(self.branch("if")?)],
                });
            } else if context == "with" && next == Kind::With {
                self.next();
                else_list = Some(List {
                    nodes: vec![Node::With(self.branch("with")?)],
                });
            } else {
                let (list, end) = self.item_list()?;
                if !matches!(end, Item::End) {
                    return self.error(format!("expected end; found {}", end.describe()));
                }
                else_list = Some(list);
            }
        }
        Ok(Branch {
            pos: pipe.pos,
            pipe,
            list,
            else_list,
        })
    }

    fn template_name(&self, token: &Token, context: &str) -> Result<String> {
        if !matches!(token.kind, Kind::String | Kind::RawString) {
            return self.unexpected(token, context);
        }
        unquote(&token.text).or_else(|message| self.error(message))
    }

    fn block_control(&mut self) -> Result<Node> {
        const CONTEXT: &str = "block clause";
        let token = self.next_non_space();
        let name = self.template_name(&token, CONTEXT)?;
        let pipe = self.pipeline(CONTEXT, Kind::RightDelim)?;
        if self.stack_depth >= MAX_STACK_DEPTH {
            return self.error("max nesting depth exceeded");
        }
        let outer = std::mem::replace(&mut self.tree, TreeState::new());
        self.stack_depth += 1;
        let listed = crate::stack::grow(|| self.item_list());
        self.stack_depth -= 1;
        self.tree = outer;
        let (list, end) = listed?;
        if !matches!(end, Item::End) {
            return self.error(format!("unexpected {} in {CONTEXT}", end.describe()));
        }
        self.add(&name, list)?;
        Ok(Node::Template {
            pos: token.pos,
            name,
            pipe: Some(pipe),
        })
    }

    fn template_control(&mut self) -> Result<Node> {
        const CONTEXT: &str = "template clause";
        let token = self.next_non_space();
        let name = self.template_name(&token, CONTEXT)?;
        let mut pipe = None;
        if self.next_non_space().kind != Kind::RightDelim {
            self.backup();
            pipe = Some(self.pipeline(CONTEXT, Kind::RightDelim)?);
        }
        Ok(Node::Template {
            pos: token.pos,
            name,
            pipe,
        })
    }
}

/// What `text_or_action` found.
#[derive(Debug)]
enum Item {
    Node(Node),
    End,
    Else,
}

impl Item {
    fn describe(&self) -> &'static str {
        match self {
            Item::End => "{{end}}",
            Item::Else => "{{else}}",
            Item::Node(_) => "node",
        }
    }
}

/// Lexer options for a parse; `break`/`continue` stay identifiers when shadowed by functions.
pub fn lex_options(left: &str, right: &str, has_function: &dyn Fn(&str) -> bool) -> LexOptions {
    LexOptions {
        left: if left.is_empty() { "{{" } else { left }.to_owned(),
        right: if right.is_empty() { "}}" } else { right }.to_owned(),
        break_ok: !has_function("break"),
        continue_ok: !has_function("continue"),
    }
}

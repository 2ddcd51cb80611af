//! The template set: named trees sharing functions and options, like Go's
//! `*template.Template` with its associated templates.

use std::collections::HashMap;
use std::sync::Arc;

use crate::ast::{List, is_empty_tree};
use crate::builtins::Builtin;
use crate::exec::{At, State, Val};
use crate::function::Function;
use crate::parse::{LexOptions, lex_options, parse, parse_split};
use crate::value::Value;

/// Default limit on nested `{{template}}` (and context-function) calls. Go allows 100000
/// because goroutine stacks grow; a native stack does not, so the default is lower.
pub const DEFAULT_MAX_DEPTH: usize = 1000;

/// What a missing map key evaluates to (Go's `missingkey` option).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum MissingKey {
    /// `missingkey=default` / `invalid`: the invalid value, printed as `<no value>`.
    #[default]
    Default,
    /// `missingkey=zero`: the zero value of the map's element type.
    Zero,
    /// `missingkey=error`: execution stops with an error.
    Error,
}

/// Errors from parsing or executing, worded like Go's.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The template text does not parse.
    #[error("{0}")]
    Parse(String),
    /// Execution failed; output written so far stays in the buffer, as in Go.
    #[error("{message}")]
    Exec {
        /// Name of the template that was executing.
        template: String,
        /// The full message, e.g. `template: t:1:2: executing "t" at <.x>: ...`.
        message: String,
    },
    /// The API was used wrongly (unknown option, bad function name, unknown template).
    #[error("{0}")]
    Usage(String),
}

/// One parsed template.
#[derive(Debug)]
pub struct Tree {
    pub(crate) name: String,
    /// Name of the top-level template whose text defined this one (for error locations).
    pub(crate) parse_name: String,
    pub(crate) text: Arc<str>,
    pub(crate) root: Arc<List>,
}

/// A successful parse of one text, reusable under another template name: the main tree
/// and the `define`d ones.
#[derive(Debug)]
struct Parsed {
    main: Arc<List>,
    defines: Vec<(String, Arc<List>)>,
}

/// Parses already done by a set, keyed by text and the lexer settings in effect, so that
/// charts vendoring the same files (a `common` library in every subchart) parse once.
type ParseCache = HashMap<(Arc<str>, LexOptions), Arc<Parsed>>;

/// A set of associated templates with their functions and options.
///
/// Cloning is cheap: trees, functions and the parse cache are shared until one side
/// changes them (copy on write), so `tpl` and `include` can copy the running set.
#[derive(Clone, Debug)]
pub struct Template {
    name: String,
    trees: Arc<HashMap<String, Arc<Tree>>>,
    funcs: Arc<HashMap<String, Function>>,
    parsed: Arc<ParseCache>,
    missing_key: MissingKey,
    max_depth: usize,
    left_delim: String,
    right_delim: String,
}

/// Go's `goodName`: a letter or underscore, then letters, digits, underscores.
fn valid_function_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c == '_' || c.is_alphabetic())
        && chars.all(|c| c == '_' || c.is_alphabetic() || c.is_numeric())
}

impl Template {
    /// An empty set whose primary template is `name`.
    pub fn new(name: impl Into<String>) -> Self {
        Template {
            name: name.into(),
            trees: Arc::default(),
            funcs: Arc::default(),
            parsed: Arc::default(),
            missing_key: MissingKey::Default,
            max_depth: DEFAULT_MAX_DEPTH,
            left_delim: String::new(),
            right_delim: String::new(),
        }
    }

    /// Name of the primary template.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Registers a function; must happen before parsing templates that use it.
    pub fn add_func(&mut self, name: &str, function: Function) -> Result<&mut Self, Error> {
        if !valid_function_name(name) {
            let quoted = crate::format::quote(name, false);
            return Err(Error::Usage(format!(
                "function name {quoted} is not a valid identifier"
            )));
        }
        Arc::make_mut(&mut self.funcs).insert(name.to_owned(), function);
        Ok(self)
    }

    /// Looks up a registered (non-built-in) function.
    pub fn function(&self, name: &str) -> Option<&Function> {
        self.funcs.get(name)
    }

    /// Go's `Option`: `missingkey=default|invalid|zero|error`.
    pub fn option(&mut self, option: &str) -> Result<&mut Self, Error> {
        self.missing_key = match option {
            "missingkey=default" | "missingkey=invalid" => MissingKey::Default,
            "missingkey=zero" => MissingKey::Zero,
            "missingkey=error" => MissingKey::Error,
            _ => return Err(Error::Usage(format!("unrecognized option: {option}"))),
        };
        Ok(self)
    }

    /// Sets the missing-key behaviour directly.
    pub fn set_missing_key(&mut self, missing_key: MissingKey) -> &mut Self {
        self.missing_key = missing_key;
        self
    }

    /// The missing-key behaviour.
    pub fn missing_key(&self) -> MissingKey {
        self.missing_key
    }

    /// Limits nesting of `{{template}}` calls and context functions (`include`).
    pub fn set_max_depth(&mut self, depth: usize) -> &mut Self {
        self.max_depth = depth;
        self
    }

    /// The nesting limit.
    pub fn max_depth(&self) -> usize {
        self.max_depth
    }

    /// Go's `Delims`; empty strings restore `{{` and `}}`.
    pub fn delims(&mut self, left: &str, right: &str) -> &mut Self {
        left.clone_into(&mut self.left_delim);
        right.clone_into(&mut self.right_delim);
        self
    }

    /// Parses `text` as the primary template (plus any `define`d ones).
    pub fn parse(&mut self, text: &str) -> Result<&mut Self, Error> {
        let name = self.name.clone();
        self.parse_named(&name, text)?;
        Ok(self)
    }

    /// Parses `text` as template `name` of this set, like Go's `t.New(name).Parse(text)`.
    /// A later non-empty definition replaces an earlier one; an empty one never does.
    ///
    /// A text this set already parsed successfully is not parsed again.
    pub fn parse_named(&mut self, name: &str, text: &str) -> Result<(), Error> {
        let options = self.lex_options();
        let text: Arc<str> = Arc::from(text);
        let key = (text, options);
        let parsed = if let Some(parsed) = self.parsed.get(&key) {
            Arc::clone(parsed)
        } else {
            let Some(parsed) = self.parse_once(name, &key.0, &key.1) else {
                return self.parse_trees(name, &key.0, false);
            };
            let parsed = Arc::new(parsed);
            Arc::make_mut(&mut self.parsed).insert(key.clone(), Arc::clone(&parsed));
            parsed
        };
        if parsed.defines.iter().any(|(define, _)| define == name) {
            // The text defines its own name: Go's merge rules apply, parse for real.
            return self.parse_trees(name, &key.0, false);
        }
        let trees = parsed
            .defines
            .iter()
            .map(|(define, root)| (define.clone(), Arc::clone(root)))
            .chain(std::iter::once((name.to_owned(), Arc::clone(&parsed.main))));
        self.add_trees(name, &key.0, trees, false);
        Ok(())
    }

    /// Go's `t.New(name).Parse(text)` followed by executing that new template: the main
    /// tree `name` is always replaced, even by an empty one (Go keeps the old definition
    /// in the set but executes the new, empty template). Helm's `tpl` relies on this.
    pub fn parse_new(&mut self, name: &str, text: &str) -> Result<(), Error> {
        self.parse_trees(name, &Arc::from(text), true)
    }

    fn lex_options(&self) -> LexOptions {
        let has_function = |f: &str| self.funcs.contains_key(f) || Builtin::lookup(f).is_some();
        lex_options(&self.left_delim, &self.right_delim, &has_function)
    }

    /// Parses `text` into its main tree and `define`d trees; `None` when it fails (the
    /// caller parses again the ordinary way for Go's exact error).
    fn parse_once(&self, name: &str, text: &str, options: &LexOptions) -> Option<Parsed> {
        let has_function = |f: &str| self.funcs.contains_key(f) || Builtin::lookup(f).is_some();
        let (main, defines) = parse_split(name, text, options, &has_function).ok()?;
        let mut defines: Vec<(String, Arc<List>)> = defines
            .into_iter()
            .map(|(define, root)| (define, Arc::new(root)))
            .collect();
        defines.sort_by(|a, b| a.0.cmp(&b.0));
        Some(Parsed {
            main: Arc::new(main),
            defines,
        })
    }

    fn parse_trees(
        &mut self,
        name: &str,
        text: &Arc<str>,
        replace_main: bool,
    ) -> Result<(), Error> {
        let options = self.lex_options();
        let has_function = |f: &str| self.funcs.contains_key(f) || Builtin::lookup(f).is_some();
        let trees = parse(name, text, &options, &has_function).map_err(|e| Error::Parse(e.0))?;
        let trees = trees
            .into_iter()
            .map(|(tree_name, root)| (tree_name, Arc::new(root)));
        self.add_trees(name, text, trees, replace_main);
        Ok(())
    }

    /// Adds parsed trees: a later non-empty definition replaces an earlier one, an empty
    /// one never does (except the main tree with `replace_main`).
    fn add_trees(
        &mut self,
        name: &str,
        text: &Arc<str>,
        trees: impl Iterator<Item = (String, Arc<List>)>,
        replace_main: bool,
    ) {
        let set = Arc::make_mut(&mut self.trees);
        for (tree_name, root) in trees {
            let keep_main = replace_main && tree_name == name;
            if !keep_main && set.contains_key(&tree_name) && is_empty_tree(&root) {
                continue;
            }
            let tree = Tree {
                name: tree_name.clone(),
                parse_name: name.to_owned(),
                text: Arc::clone(text),
                root,
            };
            set.insert(tree_name, Arc::new(tree));
        }
    }

    /// Whether a template of this name is defined.
    pub fn lookup(&self, name: &str) -> bool {
        self.trees.contains_key(name)
    }

    /// Names of all defined templates, sorted.
    pub fn template_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.trees.keys().cloned().collect();
        names.sort();
        names
    }

    pub(crate) fn tree(&self, name: &str) -> Option<Arc<Tree>> {
        self.trees.get(name).cloned()
    }

    /// Executes the primary template, appending to `out`.
    pub fn execute(&self, out: &mut String, data: &Value) -> Result<(), Error> {
        let Some(tree) = self.tree(&self.name) else {
            let quoted = crate::format::quote(&self.name, false);
            return Err(Error::Exec {
                template: self.name.clone(),
                message: format!(
                    "template: {}: {quoted} is an incomplete or empty template",
                    self.name
                ),
            });
        };
        self.run(out, &tree, data, 0)
    }

    /// Executes the named template, appending to `out`.
    pub fn execute_template(
        &self,
        out: &mut String,
        name: &str,
        data: &Value,
    ) -> Result<(), Error> {
        self.execute_nested(out, name, data, 0)
    }

    /// Executes the named template into a new string.
    pub fn render(&self, name: &str, data: &Value) -> Result<String, Error> {
        let mut out = String::new();
        self.execute_template(&mut out, name, data)?;
        Ok(out)
    }

    pub(crate) fn execute_nested(
        &self,
        out: &mut String,
        name: &str,
        data: &Value,
        depth: usize,
    ) -> Result<(), Error> {
        let Some(tree) = self.tree(name) else {
            let (name, primary) = (
                crate::format::quote(name, false),
                crate::format::quote(&self.name, false),
            );
            return Err(Error::Usage(format!(
                "template: no template {name} associated with template {primary}"
            )));
        };
        if depth >= self.max_depth {
            return Err(Error::Exec {
                template: name.to_owned(),
                message: format!(
                    "template: {name}: exceeded maximum template depth ({})",
                    self.max_depth
                ),
            });
        }
        self.run(out, &tree, data, depth)
    }

    fn run(&self, out: &mut String, tree: &Tree, data: &Value, depth: usize) -> Result<(), Error> {
        // Go's reflect.ValueOf(nil) is the invalid value, not a nil interface.
        let dot = if data.is_nil() {
            Val::missing()
        } else {
            Val::of(data.clone())
        };
        let mut state = State {
            set: self,
            tree,
            out,
            vars: vec![("$".to_owned(), dot.clone())],
            depth,
            at: At::Nowhere,
        };
        state
            .walk_list(&dot, &tree.root)
            .map(|_| ())
            .map_err(|fail| Error::Exec {
                template: tree.name.clone(),
                message: fail.0,
            })
    }
}

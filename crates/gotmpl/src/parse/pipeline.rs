//! Pipelines, commands and operands: the expression half of Go's template grammar.

use super::{MAX_STACK_DEPTH, Parser, Result};
use crate::ast::{Arg, Command, Pipe, Variable};
use crate::lex::Kind;
use crate::literal::{parse_number, unquote};

impl Parser<'_> {
    fn declarations(&mut self, pipe: &mut Pipe, context: &str) -> Result<()> {
        loop {
            let variable = self.peek_non_space();
            if variable.kind != Kind::Variable {
                return Ok(());
            }
            let variable_index = self.index;
            // peek_non_space may have skipped spaces; position right after the variable.
            self.next_non_space();
            let next = self.peek_non_space();
            let declared = Variable {
                name: variable.text.clone(),
            };
            match next.kind {
                Kind::Assign | Kind::Declare => {
                    pipe.is_assign = next.kind == Kind::Assign;
                    self.next_non_space();
                    pipe.decl.push(declared);
                    self.tree.vars.push(variable.text);
                    return Ok(());
                }
                Kind::Char if next.text == "," => {
                    self.next_non_space();
                    pipe.decl.push(declared);
                    self.tree.vars.push(variable.text);
                    if context == "range" && pipe.decl.len() < 2 {
                        match self.peek_non_space().kind {
                            Kind::Variable | Kind::RightDelim | Kind::RightParen => continue,
                            _ => return self.error("range can only initialize variables"),
                        }
                    }
                    return self.error(format!("too many declarations in {context}"));
                }
                _ => {
                    self.index = variable_index;
                    return Ok(());
                }
            }
        }
    }

    pub(super) fn pipeline(&mut self, context: &str, end: Kind) -> Result<Pipe> {
        let start = self.peek_non_space();
        let mut pipe = Pipe {
            pos: start.pos,
            is_assign: false,
            decl: Vec::new(),
            cmds: Vec::new(),
        };
        self.declarations(&mut pipe, context)?;
        loop {
            let token = self.next_non_space();
            if token.kind == end {
                self.check_pipeline(&pipe, context)?;
                return Ok(pipe);
            }
            match token.kind {
                Kind::Bool
                | Kind::CharConstant
                | Kind::Complex
                | Kind::Dot
                | Kind::Field
                | Kind::Identifier
                | Kind::Number
                | Kind::Nil
                | Kind::RawString
                | Kind::String
                | Kind::Variable
                | Kind::LeftParen => {
                    self.backup();
                    let command = self.command()?;
                    pipe.cmds.push(command);
                }
                _ => return self.unexpected(&token, context),
            }
        }
    }

    fn check_pipeline(&self, pipe: &Pipe, context: &str) -> Result<()> {
        if pipe.cmds.is_empty() {
            return self.error(format!("missing value for {context}"));
        }
        for (index, command) in pipe.cmds.iter().enumerate().skip(1) {
            let literal = matches!(
                command.args.first(),
                Some(
                    Arg::Bool { .. }
                        | Arg::Dot { .. }
                        | Arg::Nil { .. }
                        | Arg::Number { .. }
                        | Arg::String { .. }
                )
            );
            if literal {
                return self.error(format!(
                    "non executable command in pipeline stage {}",
                    index + 1
                ));
            }
        }
        Ok(())
    }

    fn command(&mut self) -> Result<Command> {
        let mut command = Command {
            pos: self.peek_non_space().pos,
            args: Vec::new(),
        };
        loop {
            self.peek_non_space();
            if let Some(operand) = self.operand()? {
                command.args.push(operand);
            }
            let token = self.next();
            match token.kind {
                Kind::Space => continue,
                Kind::RightDelim | Kind::RightParen => self.backup(),
                Kind::Pipe => {}
                _ => return self.unexpected(&token, "operand"),
            }
            break;
        }
        if command.args.is_empty() {
            return self.error("empty command");
        }
        Ok(command)
    }

    fn operand(&mut self) -> Result<Option<Arg>> {
        let Some(node) = self.term()? else {
            return Ok(None);
        };
        if self.peek().kind != Kind::Field {
            return Ok(Some(node));
        }
        let chain_pos = self.peek().pos;
        let mut fields = Vec::new();
        while self.peek().kind == Kind::Field {
            fields.push(self.next().text[1..].to_owned());
        }
        Ok(Some(match node {
            Arg::Field { mut idents, .. } => {
                idents.extend(fields);
                Arg::Field {
                    pos: chain_pos,
                    idents,
                }
            }
            Arg::Variable { mut idents, .. } => {
                idents.extend(fields);
                Arg::Variable {
                    pos: chain_pos,
                    idents,
                }
            }
            Arg::Bool { .. }
            | Arg::String { .. }
            | Arg::Number { .. }
            | Arg::Nil { .. }
            | Arg::Dot { .. } => {
                let quoted = crate::format::quote(&node.to_string(), false);
                return self.error(format!("unexpected . after term {quoted}"));
            }
            node => Arg::Chain {
                pos: chain_pos,
                node: Box::new(node),
                fields,
            },
        }))
    }

    fn term(&mut self) -> Result<Option<Arg>> {
        let token = self.next_non_space();
        let pos = token.pos;
        let arg = match token.kind {
            Kind::Identifier => {
                if !(self.has_function)(&token.text) {
                    let quoted = crate::format::quote(&token.text, false);
                    return self.error(format!("function {quoted} not defined"));
                }
                Arg::Identifier {
                    pos,
                    name: token.text,
                }
            }
            Kind::Dot => Arg::Dot { pos },
            Kind::Nil => Arg::Nil { pos },
            Kind::Variable => self.use_variable(pos, &token.text)?,
            Kind::Field => Arg::Field {
                pos,
                idents: vec![token.text[1..].to_owned()],
            },
            Kind::Bool => Arg::Bool {
                pos,
                value: token.text == "true",
            },
            Kind::CharConstant | Kind::Complex | Kind::Number => {
                match parse_number(&token.text, token.kind == Kind::CharConstant) {
                    Ok(number) => Arg::Number { pos, number },
                    Err(message) => return self.error(message),
                }
            }
            Kind::LeftParen => {
                if self.stack_depth >= MAX_STACK_DEPTH {
                    return self.error("max expression depth exceeded");
                }
                self.stack_depth += 1;
                let pipe = crate::stack::grow(|| {
                    self.pipeline("parenthesized pipeline", Kind::RightParen)
                });
                self.stack_depth -= 1;
                Arg::Pipe(Box::new(pipe?))
            }
            Kind::String | Kind::RawString => match unquote(&token.text) {
                Ok(text) => Arg::String {
                    pos,
                    quoted: token.text,
                    text,
                },
                Err(message) => return self.error(message),
            },
            _ => {
                self.backup();
                return Ok(None);
            }
        };
        Ok(Some(arg))
    }

    fn use_variable(&self, pos: usize, text: &str) -> Result<Arg> {
        let idents: Vec<String> = text.split('.').map(str::to_owned).collect();
        if self.tree.vars.iter().any(|v| *v == idents[0]) {
            return Ok(Arg::Variable { pos, idents });
        }
        self.error(format!(
            "undefined variable {}",
            crate::format::quote(&idents[0], false)
        ))
    }
}

//! Chat templates: the formats of the supported instruction-tuned families, rendered
//! with the assistant (model) turn opened.

use super::generate::{ChatMessage, Role};
use super::tokenizer::Tokenizer;

/// Qwen2.5's default system message, used by its template when none is given.
pub const QWEN_DEFAULT_SYSTEM: &str = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.";

/// The role names ChatML and Llama 3 headers use.
fn role_name(role: Role) -> &'static str {
    match role {
        Role::System => "system",
        Role::User => "user",
        Role::Assistant => "assistant",
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatFormat {
    /// `<|im_start|>role\n…<|im_end|>\n` (Qwen); a default system turn when none is given.
    ChatMl { qwen_default_system: bool },
    /// `<start_of_turn>user\n…<end_of_turn>\n<start_of_turn>model\n` (Gemma); a system
    /// message is folded into the first user turn.
    Gemma,
    /// Llama 3 headers.
    Llama3,
    /// No template: `System:`/`User:`/`Assistant:` lines.
    Plain,
}

impl ChatFormat {
    /// Picks the format from the special tokens the vocabulary has.
    pub fn detect(tok: &Tokenizer, arch: &str) -> Self {
        if tok.token_id("<|im_start|>").is_some() {
            ChatFormat::ChatMl { qwen_default_system: arch.starts_with("qwen2") }
        } else if tok.token_id("<start_of_turn>").is_some() {
            ChatFormat::Gemma
        } else if tok.token_id("<|start_header_id|>").is_some() {
            ChatFormat::Llama3
        } else {
            ChatFormat::Plain
        }
    }

    /// Renders chat messages with this template and opens the assistant turn. When the last
    /// message is the assistant's, its text is written into that opened turn and left open, so
    /// the model continues it (a reply started with fixed words).
    pub fn render(&self, messages: &[ChatMessage]) -> String {
        match messages.split_last() {
            Some((last, rest)) if last.role == Role::Assistant => {
                let mut s = self.render_open(rest);
                if *self == ChatFormat::Plain && !last.content.is_empty() {
                    s.push(' ');
                }
                s.push_str(&last.content);
                s
            }
            _ => self.render_open(messages),
        }
    }

    fn render_open(&self, messages: &[ChatMessage]) -> String {
        let mut s = String::new();
        match self {
            ChatFormat::ChatMl { qwen_default_system } => {
                if *qwen_default_system && messages.first().map(|m| m.role) != Some(Role::System) {
                    s.push_str(&format!("<|im_start|>system\n{QWEN_DEFAULT_SYSTEM}<|im_end|>\n"));
                }
                for m in messages {
                    s.push_str(&format!("<|im_start|>{}\n{}<|im_end|>\n", role_name(m.role), m.content));
                }
                s.push_str("<|im_start|>assistant\n");
            }
            ChatFormat::Gemma => {
                let mut pending_system: Option<&str> = None;
                for m in messages {
                    match m.role {
                        Role::System => pending_system = Some(&m.content),
                        Role::User => {
                            let content = match pending_system.take() {
                                Some(sys) => format!("{sys}\n\n{}", m.content),
                                None => m.content.clone(),
                            };
                            s.push_str(&format!("<start_of_turn>user\n{content}<end_of_turn>\n"));
                        }
                        Role::Assistant => s.push_str(&format!("<start_of_turn>model\n{}<end_of_turn>\n", m.content)),
                    }
                }
                s.push_str("<start_of_turn>model\n");
            }
            ChatFormat::Llama3 => {
                for m in messages {
                    s.push_str(&format!(
                        "<|start_header_id|>{}<|end_header_id|>\n\n{}<|eot_id|>",
                        role_name(m.role),
                        m.content
                    ));
                }
                s.push_str("<|start_header_id|>assistant<|end_header_id|>\n\n");
            }
            ChatFormat::Plain => {
                for m in messages {
                    let role = match m.role {
                        Role::System => "System",
                        Role::User => "User",
                        Role::Assistant => "Assistant",
                    };
                    s.push_str(&format!("{role}: {}\n", m.content));
                }
                s.push_str("Assistant:");
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chatml_adds_qwen_default_system() {
        let s = ChatFormat::ChatMl { qwen_default_system: true }.render(&[ChatMessage::user("Hi")]);
        assert_eq!(
            s,
            format!("<|im_start|>system\n{QWEN_DEFAULT_SYSTEM}<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
        );
    }

    #[test]
    fn gemma_folds_system_into_user() {
        let s = ChatFormat::Gemma.render(&[ChatMessage::system("Be brief."), ChatMessage::user("Why?")]);
        assert_eq!(s, "<start_of_turn>user\nBe brief.\n\nWhy?<end_of_turn>\n<start_of_turn>model\n");
    }

    #[test]
    fn trailing_assistant_message_is_continued() {
        let f = ChatFormat::ChatMl { qwen_default_system: false };
        let msgs = [ChatMessage::user("Hi"), ChatMessage::assistant("I argue that")];
        assert_eq!(f.render(&msgs), format!("{}I argue that", f.render(&msgs[..1])));
        let g = ChatFormat::Gemma;
        assert_eq!(g.render(&msgs), "<start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\nI argue that");
    }
}

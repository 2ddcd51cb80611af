//! Chat services with their own message formats: Microsoft Teams, Google Chat, Webex,
//! Telegram, Matrix, Lark and Zulip.

use std::fmt::Write as _;

use ferroflux_runtime::events::FluxEvent;
use serde_json::{Value, json};
use sha1::{Digest as _, Sha1};

use super::{
    Method, OutgoingRequest, PayloadError, ProviderConfig, ResponseCheck, is_error, kind, name,
    namespace, object_title, parse_address, query_escape,
};

/// Teams: the legacy connector card for `*.webhook.office.com` URLs, an Adaptive Card
/// (Power Automate workflows) otherwise.
pub fn msteams(
    event: &FluxEvent,
    config: &ProviderConfig,
) -> Result<OutgoingRequest, PayloadError> {
    let url = parse_address(&config.address, "MS Teams")?;
    let title = object_title(event);
    let legacy = url
        .host_str()
        .is_some_and(|host| host.ends_with(".webhook.office.com"));
    let body = if legacy {
        let facts: Vec<Value> = event
            .metadata
            .iter()
            .map(|(k, v)| json!({"name": k, "value": v}))
            .collect();
        json!({
            "@type": "MessageCard",
            "@context": "http://schema.org/extensions",
            "themeColor": if is_error(event) { "FF0000" } else { "0076D7" },
            "summary": title,
            "sections": [{"activityTitle": event.message, "activitySubtitle": title, "facts": facts}],
        })
    } else {
        adaptive_card(event, &title)
    };
    Ok(OutgoingRequest::json(url.as_str(), &body))
}

fn adaptive_card(event: &FluxEvent, title: &str) -> Value {
    let mut message = json!({"type": "TextBlock", "text": event.message});
    if is_error(event) {
        message["color"] = json!("attention");
    }
    message["wrap"] = json!(true);
    // The summary comes first, the other facts sorted by title.
    let summary = event.metadata.get("summary");
    let facts: Vec<Value> = summary
        .map(|v| json!({"title": "summary", "value": v}))
        .into_iter()
        .chain(
            event
                .metadata
                .iter()
                .filter(|(k, _)| *k != "summary")
                .map(|(k, v)| json!({"title": k, "value": v})),
        )
        .collect();
    let mut fact_set = json!({"type": "FactSet"});
    if !facts.is_empty() {
        fact_set["facts"] = Value::Array(facts);
    }
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "body": [{
                    "type": "Container",
                    "items": [
                        {"type": "TextBlock", "text": title, "size": "large", "weight": "bolder", "wrap": true},
                        message,
                        fact_set,
                    ],
                }],
                "msteams": {"width": "Full"},
            },
        }],
    })
}

/// Google Chat: a card with the object, the reporting controller, the message (red on
/// errors) and the metadata as key/value widgets.
pub fn google_chat(
    event: &FluxEvent,
    config: &ProviderConfig,
) -> Result<OutgoingRequest, PayloadError> {
    let url = parse_address(&config.address, "Google Chat")?;
    let text = if is_error(event) {
        format!("<font color=\"#ff0000\">{}</font>", event.message)
    } else {
        event.message.clone()
    };
    let mut sections = vec![json!({
        "header": "",
        "widgets": [{"textParagraph": {"text": text}, "keyValue": null}],
    })];
    if !event.metadata.is_empty() {
        let widgets: Vec<Value> = event
            .metadata
            .iter()
            .map(|(k, v)| {
                json!({"textParagraph": null, "keyValue": {
                    "topLabel": k, "content": v, "contentMultiline": false,
                    "bottomLabel": null, "icon": null,
                }})
            })
            .collect();
        sections.push(json!({"header": "", "widgets": widgets}));
    }
    let body = json!({"cards": [{
        "header": {
            "title": object_title(event),
            "subtitle": event.reporting_controller,
            "imageUrl": null,
            "imageStyle": null,
        },
        "sections": sections,
    }]});
    Ok(OutgoingRequest::json(url.as_str(), &body))
}

/// Webex: Markdown into the room named by `channel`, with the bot token.
pub fn webex(event: &FluxEvent, config: &ProviderConfig) -> Result<OutgoingRequest, PayloadError> {
    let url = parse_address(&config.address, "Webex")?;
    let emoji = if is_error(event) { "💣" } else { "✅" };
    let mut markdown = format!("{emoji} **{}**\n{}\n", object_title(event), event.message);
    for (k, v) in &event.metadata {
        let _ = writeln!(markdown, ">**{k}**: {v}");
    }
    let mut body = json!({});
    if !config.channel.is_empty() {
        body["roomId"] = json!(config.channel);
    }
    body["markdown"] = json!(markdown);
    Ok(OutgoingRequest::json(url.as_str(), &body)
        .header("Authorization", format!("Bearer {}", config.token)))
}

/// Telegram's MarkdownV2 escaping.
fn telegram_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.-_[]()~>`#+=|{}!*".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Telegram: `sendMessage` of the bot (token) to `channel` (`<chat>[:<thread>]`).
pub fn telegram(
    event: &FluxEvent,
    config: &ProviderConfig,
) -> Result<OutgoingRequest, PayloadError> {
    if config.channel.is_empty() {
        return Err(PayloadError::Invalid("empty Telegram channel".to_owned()));
    }
    if config.token.is_empty() {
        return Err(PayloadError::Invalid("empty Telegram token".to_owned()));
    }
    let emoji = if is_error(event) { "🚨" } else { "💫" };
    let heading = format!(
        "{emoji} {}/{}/{}",
        kind(event).to_lowercase(),
        name(event),
        namespace(event)
    );
    let mut metadata = String::new();
    for (k, v) in &event.metadata {
        let _ = writeln!(
            metadata,
            "\\- *{}*: {}",
            telegram_escape(k),
            telegram_escape(v)
        );
    }
    let text = format!(
        "*{}*\n{}\n{metadata}",
        telegram_escape(&heading),
        telegram_escape(&event.message)
    );
    let (chat, thread) = match config.channel.split_once(':') {
        Some((chat, thread)) => (chat, Some(thread)),
        None => (config.channel.as_str(), None),
    };
    let mut body = json!({"chat_id": chat});
    if let Some(thread) = thread.filter(|t| !t.is_empty()) {
        body["message_thread_id"] = json!(thread);
    }
    body["text"] = json!(text);
    body["parse_mode"] = json!("MarkdownV2");
    let url = format!("https://api.telegram.org/bot{}/sendMessage", config.token);
    Ok(OutgoingRequest::json(url, &body))
}

/// Matrix: a `m.text` message PUT into the room (`channel`) with a transaction id
/// derived from the event, so that retries are not posted twice.
pub fn matrix(event: &FluxEvent, config: &ProviderConfig) -> Result<OutgoingRequest, PayloadError> {
    let _ = parse_address(&config.address, "Matrix")?;
    let transaction = hex::encode(Sha1::digest(
        serde_json::to_vec(event).expect("events always serialize"),
    ));
    let url = format!(
        "{}/_matrix/client/r0/rooms/{}/send/m.room.message/{transaction}",
        config.address.trim(),
        config.channel
    );
    let emoji = if is_error(event) { "🚨" } else { "💫" };
    let mut metadata = String::new();
    for (k, v) in &event.metadata {
        let _ = writeln!(metadata, "- {k}: {v}");
    }
    let text = format!(
        "{emoji} {}\n{}\n{metadata}",
        object_title(event),
        event.message
    );
    let mut request = OutgoingRequest::json(url, &json!({"body": text, "msgtype": "m.text"}))
        .header("Authorization", format!("Bearer {}", config.token));
    request.method = Method::Put;
    Ok(request)
}

/// Lark: an interactive card, turquoise or red.
pub fn lark(event: &FluxEvent, config: &ProviderConfig) -> Result<OutgoingRequest, PayloadError> {
    let url = parse_address(&config.address, "Lark")?;
    let (emoji, color) = if is_error(event) {
        ("🚨", "red")
    } else {
        ("💫", "turquoise")
    };
    let mut content = format!("**{}**\n\n", event.message);
    for (k, v) in &event.metadata {
        let _ = writeln!(content, "{k}: {v}");
    }
    let body = json!({
        "msg_type": "interactive",
        "card": {
            "config": {"wide_screen_mode": true},
            "header": {
                "title": {"tag": "plain_text", "content": format!("{emoji} {}", object_title(event))},
                "template": color,
            },
            "elements": [{"tag": "div", "text": {"tag": "lark_md", "content": content}}],
        },
    });
    Ok(OutgoingRequest::json(url.as_str(), &body))
}

/// Flux's Markdown post (Zulip and change-request comments).
fn markdown_post(event: &FluxEvent) -> String {
    let emoji = if is_error(event) { "⚠️" } else { "ℹ️" };
    let mut lines = String::new();
    for (k, v) in event
        .metadata
        .iter()
        .filter(|(k, _)| *k != "change_request")
    {
        let _ = writeln!(lines, "* `{k}`: {v}");
    }
    format!(
        "## Flux Status\n\n{emoji} {}/{}/{}\n\n{}\n\nMetadata:\n{lines}",
        kind(event),
        namespace(event),
        name(event),
        event.message
    )
}

/// Zulip: a stream message (`channel` is `<stream>/<topic>`) with basic auth.
pub fn zulip(event: &FluxEvent, config: &ProviderConfig) -> Result<OutgoingRequest, PayloadError> {
    let mut url = parse_address(&config.address, "Zulip")?;
    url.set_path("/api/v1/messages");
    let Some((stream, topic)) = config
        .channel
        .split_once('/')
        .filter(|(s, t)| !s.is_empty() && !t.is_empty())
    else {
        return Err(PayloadError::Invalid(format!(
            "invalid Zulip channel format, expected <channel>/<topic>, got '{}'",
            config.channel
        )));
    };
    // Go's url.Values.Encode sorts the keys.
    let form = [
        ("content", markdown_post(event)),
        ("to", stream.to_owned()),
        ("topic", topic.to_owned()),
        ("type", "stream".to_owned()),
    ]
    .iter()
    .map(|(k, v)| format!("{k}={}", query_escape(v)))
    .collect::<Vec<_>>()
    .join("&");
    let credentials = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        format!("{}:{}", config.username, config.password),
    );
    Ok(OutgoingRequest {
        method: Method::Post,
        url: url.to_string(),
        headers: vec![
            (
                "Content-Type".to_owned(),
                "application/x-www-form-urlencoded".to_owned(),
            ),
            ("Authorization".to_owned(), format!("Basic {credentials}")),
        ],
        body: form.into_bytes(),
        check: ResponseCheck::Success,
    })
}

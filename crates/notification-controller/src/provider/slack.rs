//! Slack and the services that take Slack's attachment payload (Discord's `/slack`
//! endpoint, Rocket.Chat).

use ferroflux_runtime::events::FluxEvent;
use serde_json::{Value, json};

use super::{
    OutgoingRequest, PayloadError, ProviderConfig, ResponseCheck, is_error, object_title,
    parse_address,
};

/// Slack's Web API method for bot tokens; its 200 responses carry `ok: false` on errors.
const CHAT_POST_MESSAGE: &str = "https://slack.com/api/chat.postMessage";

struct Attachment<'a> {
    fallback: bool,
    good: &'a str,
    danger: &'a str,
}

fn payload(event: &FluxEvent, channel: &str, username: &str, style: &Attachment<'_>) -> Value {
    let author = object_title(event);
    let first_line = event.message.split('\n').next().unwrap_or_default();
    let fields: Vec<Value> = event
        .metadata
        .iter()
        .map(|(title, value)| json!({"title": title, "value": value, "short": false}))
        .collect();
    json!({
        "channel": channel,
        "username": username,
        "icon_url": "",
        "icon_emoji": "",
        "attachments": [{
            "fallback": if style.fallback { format!("{author}: {first_line}") } else { String::new() },
            "color": if is_error(event) { style.danger } else { style.good },
            "author_name": author,
            "text": event.message,
            "mrkdwn_in": ["text"],
            "fields": fields,
        }],
    })
}

fn username_or_controller<'a>(config: &'a ProviderConfig, event: &'a FluxEvent) -> &'a str {
    if config.username.is_empty() {
        &event.reporting_controller
    } else {
        &config.username
    }
}

/// Slack: an incoming webhook URL, or `chat.postMessage` with a bot token and channel.
pub fn slack(event: &FluxEvent, config: &ProviderConfig) -> Result<OutgoingRequest, PayloadError> {
    let url = parse_address(&config.address, "Slack")?;
    let style = Attachment {
        fallback: true,
        good: "good",
        danger: "danger",
    };
    let body = payload(
        event,
        &config.channel,
        username_or_controller(config, event),
        &style,
    );
    let mut request = OutgoingRequest::json(url.as_str(), &body);
    if !config.token.is_empty() {
        request = request.header("Authorization", format!("Bearer {}", config.token));
    }
    if config.address.trim() == CHAT_POST_MESSAGE {
        request.check = ResponseCheck::SlackOk;
    }
    Ok(request)
}

/// Discord: its Slack-compatible endpoint, the webhook URL with `/slack` appended.
pub fn discord(
    event: &FluxEvent,
    config: &ProviderConfig,
) -> Result<OutgoingRequest, PayloadError> {
    let mut url = parse_address(&config.address, "Discord")?;
    if !config.address.trim().ends_with("/slack") {
        let path = format!("{}/slack", url.path().trim_end_matches('/'));
        url.set_path(&path);
    }
    let style = Attachment {
        fallback: false,
        good: "good",
        danger: "danger",
    };
    let body = payload(event, "", username_or_controller(config, event), &style);
    Ok(OutgoingRequest::json(url.as_str(), &body))
}

/// Rocket.Chat: an incoming webhook with Slack attachments and Rocket's colours.
pub fn rocket(event: &FluxEvent, config: &ProviderConfig) -> Result<OutgoingRequest, PayloadError> {
    let url = parse_address(&config.address, "Rocket")?;
    let style = Attachment {
        fallback: false,
        good: "#0076D7",
        danger: "#FF0000",
    };
    let body = payload(event, &config.channel, &config.username, &style);
    Ok(OutgoingRequest::json(url.as_str(), &body))
}

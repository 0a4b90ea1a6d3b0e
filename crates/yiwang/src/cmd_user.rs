//! `yiwang user unlock` and `yiwang user reset-totp`: the administrator's way out when an account
//! is locked or its authenticator is lost. Both are audited with the command-line actor.

use crate::cli::UserCommand;
use crate::cmd_audit::cli_actor;
use crate::env::now_ms;
use anyhow::bail;
use yiwang_store::Store;

/// Runs the sign-in related user commands; `None` for the others.
pub async fn run(store: &Store, command: &UserCommand) -> Option<anyhow::Result<()>> {
    match command {
        UserCommand::Unlock { username } => Some(unlock(store, username).await),
        UserCommand::ResetTotp { username } => Some(reset_totp(store, username).await),
        UserCommand::Create { .. } => None,
    }
}

async fn unlock(store: &Store, username: &str) -> anyhow::Result<()> {
    let actor = cli_actor();
    let was_locked = store.account_locked(username, now_ms()).await?;
    if !store
        .unlock_account(username, None, &actor.name, &actor.client, now_ms())
        .await?
    {
        bail!("no account named {username}");
    }
    if was_locked {
        println!("account {username} unlocked");
    } else {
        println!("account {username} was not locked; its failure count is cleared");
    }
    Ok(())
}

async fn reset_totp(store: &Store, username: &str) -> anyhow::Result<()> {
    let actor = cli_actor();
    if !store
        .reset_totp(username, &actor.name, &actor.client, now_ms())
        .await?
    {
        bail!("no account named {username}");
    }
    println!("one-time code key of {username} removed; the next sign-in sets up a new one");
    Ok(())
}

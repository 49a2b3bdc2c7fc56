<?php

namespace App\Http;

/**
 * The demo's two pages, as plain HTML.
 */
class Pages
{
    /**
     * The sign-in page.
     */
    public static function login(): string
    {
        return self::layout('Sign in', <<<'HTML'
            <form method="post" action="/login" class="card">
              <h1>rust-echo chat</h1>
              <p>Pick a name (letters, digits, _ and -). No password: this is a demo.</p>
              <input name="name" id="name" maxlength="20" pattern="[A-Za-z0-9_-]+" required autofocus>
              <button id="login">Join</button>
            </form>
            HTML);
    }

    /**
     * The chat page for $name, talking to the Socket.IO server at $echoHost.
     */
    public static function chat(string $name, string $echoHost): string
    {
        $config = json_encode(['user' => ['id' => $name, 'name' => $name], 'echoHost' => $echoHost]);
        $safeName = htmlspecialchars($name);

        return self::layout('Chat', <<<HTML
            <header><h1>rust-echo chat</h1><p>Signed in as <b id="me">$safeName</b>
              <span id="status" class="off">connecting…</span>
              <form method="post" action="/logout" style="display:inline"><button>Sign out</button></form></p></header>
            <main>
              <section class="card"><h2>Messages</h2><ol id="messages"></ol><p id="typing"></p>
                <form id="send"><input id="text" autocomplete="off" placeholder="Say something">
                <button>Send</button></form></section>
              <aside>
                <section class="card"><h2>Online</h2><ul id="online"></ul><ol id="presence-log"></ol></section>
                <section class="card"><h2>Notifications</h2><ul id="notifications"></ul>
                  <form id="poke"><input id="poke-name" placeholder="name"><button>Poke</button></form></section>
              </aside>
            </main>
            <script>window.demo = $config;</script>
            <script src="/build/app.js"></script>
            HTML);
    }

    /**
     * Wrap a page body.
     */
    private static function layout(string $title, string $body): string
    {
        return <<<HTML
            <!doctype html><html lang="en"><head><meta charset="utf-8"><title>$title · rust-echo</title>
            <style>
              body{font:15px system-ui,sans-serif;margin:2rem;background:#f6f7f9;color:#222}
              main{display:grid;grid-template-columns:2fr 1fr;gap:1rem}
              .card{background:#fff;border-radius:8px;padding:1rem;box-shadow:0 1px 3px #0002}
              #messages{min-height:12rem} #typing{color:#888;min-height:1.2em;font-style:italic}
              .off{color:#b00} .on{color:#080} input{padding:.4rem;width:60%} button{padding:.4rem .8rem}
            </style></head><body>$body</body></html>
            HTML;
    }
}

// Drives the official TypeScript SDKs through the gateway: one call
// each, plain and streaming, with the gateway's client token as the API
// key. Prints what each call returned as one JSON object.
const Anthropic = require("@anthropic-ai/sdk");
const OpenAI = require("openai");

const gw = process.env.GATEWAY_URL;
const token = process.env.GATEWAY_TOKEN;

async function main() {
  const out = {};
  const msg = { model: "claude-test-model", max_tokens: 64, messages: [{ role: "user", content: "Hi" }] };

  const a1 = new Anthropic({ baseURL: gw + "/anthropic@plain", apiKey: token });
  const m = await a1.messages.create(msg);
  out.anthropic = m.content[0].text;

  const a2 = new Anthropic({ baseURL: gw + "/anthropic@stream", apiKey: token });
  const stream = a2.messages.stream(msg);
  const final = await stream.finalMessage();
  out.anthropicStream = final.content[0].text;

  const chat = { model: "gpt-4o", messages: [{ role: "user", content: "Hi" }] };
  const o1 = new OpenAI({ baseURL: gw + "/openai@plain/v1", apiKey: token });
  const c = await o1.chat.completions.create(chat);
  out.openai = c.choices[0].message.content;

  const o2 = new OpenAI({ baseURL: gw + "/openai@stream/v1", apiKey: token });
  const s = await o2.chat.completions.create({ ...chat, stream: true });
  let text = "";
  for await (const chunk of s) {
    if (chunk.choices.length > 0) text += chunk.choices[0].delta.content || "";
  }
  out.openaiStream = text;

  console.log(JSON.stringify(out));
}

main().catch((err) => {
  console.error(String(err && err.message ? err.message : err));
  process.exit(1);
});

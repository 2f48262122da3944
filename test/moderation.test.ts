/**
 * Issue 10 §5, as a user, an operator and an integrator meet it: Korean and English words and
 * their evasions masked with exact spans, words that must stay, the word-timing API the
 * recording issue bleeps from, the operator's list reloaded without a restart (a bad file keeps
 * the old one), POST /api/v1/moderation/mask in both postures, and seed 002's chat relayed masked.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { randomSecret } from '../src/app.js';
import { loadConfig } from '../src/config/config.js';
import { describePosture } from '../src/config/posture.js';
import { pino } from 'pino';
import { createLogger } from '../src/log/logger.js';
import { builtInWords } from '../src/moderation/builtInWords.js';
import { MaskingEngine } from '../src/moderation/maskingEngine.js';
import { Moderator, type ModeratorEvents } from '../src/moderation/moderator.js';
import type { MaskSpan } from '../src/moderation/types.js';
import { firstAdmin } from './support/consultation.js';
import { request, startParley, type RunningParley } from './support/parleyServer.js';
import { connect, once } from './support/sockets.js';

const engine = new MaskingEngine(builtInWords);
const silent = createLogger('silent');

/** [input, expected masked text, expected spans] */
type Row = [string, string, Array<[number, number, MaskSpan['category']]>];

const korean: Row[] = [
  ['시발', '**', [[0, 2, 'profanity']]],
  ['아 시 발 진짜', '아 *** 진짜', [[2, 5, 'profanity']]], // spacing
  ['ㅅㅂ 뭐야', '** 뭐야', [[0, 2, 'profanity']]], // initials (jamo)
  ['ㅅㅣㅂㅏㄹ', '*****', [[0, 5, 'profanity']]], // jamo spelled out
  ['시1발', '***', [[0, 3, 'profanity']]], // a digit between
  ['시.발!', '***!', [[0, 3, 'profanity']]], // a symbol between
  ['씨이이발', '****', [[0, 4, 'profanity']]], // a held vowel
  ['쒸발', '**', [[0, 2, 'profanity']]], // tensed and near vowels
  ['이 개새끼야', '이 ***야', [[2, 5, 'insult']]],
  ['병1신', '***', [[0, 3, 'insult']]],
  ['ㅂ ㅅ', '***', [[0, 3, 'insult']]],
  ['존나 좋아', '** 좋아', [[0, 2, 'profanity']]],
  ['tlqkf', '*****', [[0, 5, 'profanity']]], // 시발 typed on an English keyboard
  ['이새낀 뭐야', '이** 뭐야', [[1, 3, 'insult']]], // a contracted particle on the last syllable
  ['쓰레기 같은 놈', '*****은 놈', [[0, 5, 'insult']]],
  ['다 뒈지길', '다 **길', [[2, 4, 'profanity']]],
  ['기분 잣같네', '기분 **네', [[3, 5, 'profanity']]], // 좆같 written with 잣 (pine nut)
  ['그지새키', '그지**', [[2, 4, 'insult']]],
  ['벌레 같은 놈', '****은 놈', [[0, 4, 'slur']]], // 벌레 said of people (alone it is an insect)
];

const english: Row[] = [
  ['what the fuck', 'what the ****', [[9, 13, 'profanity']]],
  ['fuuuuck', '*******', [[0, 7, 'profanity']]], // repeated letters
  ['f*ck this', '**** this', [[0, 4, 'profanity']]], // a symbol for a vowel
  ['f u c k you', '******* you', [[0, 7, 'profanity']]], // spaced letters
  ['f.u.c.k', '*******', [[0, 7, 'profanity']]],
  ['sh1t happens', '**** happens', [[0, 4, 'profanity']]], // a digit for a letter
  ['you a$$', 'you ***', [[4, 7, 'profanity']]],
  ['fuсk', '****', [[0, 4, 'profanity']]], // Cyrillic с: mixed scripts
  ['ｆｕｃｋ', '****', [[0, 4, 'profanity']]], // full-width look-alikes
  ['motherfucker', '************', [[0, 12, 'profanity']]],
  ['stupid bitch', 'stupid *****', [[7, 12, 'insult']]],
  ['Shit!', '****!', [[0, 4, 'profanity']]],
];

const mixed: Row[] = [['아 시발 what the fuck', '아 ** what the ****', [[2, 4, 'profanity'], [14, 18, 'profanity']]]];

/** Words that contain a listed one and must not be masked (docs/moderation.md says why each). */
const mustStay = [
  'shiitake mushrooms',
  'I read Moby Dick',
  'my assistant is in class',
  'Scunthorpe United',
  'a classic bass guitar',
  'the therapist said',
  'cocktail at the peacock bar',
  'cumulative document',
  'passive assessment',
  '시발점이 어디예요',
  '수박씨발라먹어',
  '다시 발견했어요',
  '그 영화 보지 마세요',
  '새끼손가락 걸고 약속',
  '껌을 씹다',
  '한남동에 살아요',
  '시바견 귀여워',
  '안녕하세요 상담 부탁드립니다',
  '삼시세끼 챙겨 먹어요',
  '조선시대 조사 결과를 조심해서 조작 없이',
  '전염병 예방',
  '샤워했어요',
  '무시받는 기분',
  '새벽 2시 반에',
  '오십 넘으면 쉽지 않아',
  '이기면 진다',
  '그 번호로 전화하세요',
  '서울에..미사일',
  'hashtag #4455',
  '쓰레기 수거 요일이 언제죠',
  // Plain vocabulary a customer may need (a crime report, a complaint) and look-alikes found in the corpora.
  '강간 피해를 신고하고 싶어요',
  '성교육 자료에 섹스라는 단어가 나와요',
  '아이가 야동을 본 것 같아요',
  '진중권씨바둑이 보내겠습니다',
  '이래야 되나 보지?',
  'the news about a porn star',
  'momma said no pussy cats inside',
  'the royal city of the Kushite kings',
  'this is gobbledy gook to me',
  'too many chinks in their armor',
  'a rotary hoe over the corn',
  'hoe vaak men ook zegt',
];

/**
 * Allow rules and context rules both ways: each clean use (left) is not masked at all, and the profane use of the
 * same word (right) still is. Korean verbs and nouns of everyday speech, animals' young, food and games, places;
 * English martial arts, Latin, birds, names, a car's transmission, a breeder's dog, Dutch, a handle.
 */
const bothWays: Array<[clean: string, profane: string]> = [
  ['다시 한번 마음에 새기겠습니다', '이 새기 뭐야'],
  ['그 말을 되새기면서', '저 새기 또 왔네'],
  ['전원이 자꾸 꺼져요', '당장 꺼져'],
  ['화면이 갑자기 꺼져서 연락드렸어요', '꺼져 이 자식아'],
  ['위기가 닥쳐오고 있다', '닥쳐 좀'],
  ['가방을 뒤져서 찾았어요', '그냥 뒤져라'],
  ['아이가 졸라서 사줬어요', '졸라 짜증나'],
  ['허리띠를 졸라매야죠', '진짜 졸라 싫어'],
  ['영향을 미친 요인을 찾았어요', '너 미친 거 아니야'],
  ['기대에 못 미친 결과', '미친 거 아냐'],
  ['축구에 미친 사람', '미친 소리 하지 마'],
  ['5개년 계획', '이 개년아'],
  ['십팔일에 예약했어요', '아 십팔 진짜'],
  ['제 십팔번은 이 노래예요', '십팔 놈아'],
  ['등신대 패널을 샀어요', '이 등신아'],
  ['큰 재앙이 될 수 있다', '재앙이가 또 사고쳤네'],
  ['카드 다시발급 해주세요', '시발 진짜'],
  ['다시바꿔주세요', '아 시바 진짜'],
  ['멸치 대가리를 떼고 볶아요', '대가리 박아'],
  ['눈깔사탕 하나 주세요', '눈깔 똑바로 떠'],
  ['마음을 고쳐먹고 다시 할게요', '술 쳐먹고 왔냐'],
  ['외투를 걸쳐입고 나갔어요', '옷 쳐입고 나와'],
  ['걸레를 빨아서 널었어요', '저 걸레 같은 년'],
  ['강아지 새끼를 분양받았어요', '저 새끼 뭐야'],
  ['새끼 호랑이가 태어났어요', '이 새끼가'],
  ['음식에서 벌레 나왔어요', '벌레 같은 놈'],
  ['땅따먹기 놀이', '그 여자 따먹고 싶다'],
  ['사과를 따먹었다', '따먹어 버릴까'],
  ['한남3구역 재개발', '한남들 진짜'],
  ['홍어탕 맛집', '저 홍어들'],
  ['떡치기 체험', '떡치러 가자'],
  ['병신년 새해 복 많이 받으세요', '이 병신아'],
  ['kung fu panda', 'oh fu that'],
  ['summa cum laude', 'lick the cum'],
  ['spic and span kitchen', 'dirty spic'],
  ['blue tits at the feeder', 'show me your tits'],
  ['a finger prick test', 'what a prick'],
  ['soap scum remover', 'you are scum'],
  ['pussy willow in spring', 'grab her pussy'],
  ['Dick Cheney said no', 'suck my dick'],
  ['I love Philip K. Dick novels', 'Suck My Dick'],
  ['a trip to Niger', 'you niger'],
  ['Sean Spicer spoke', 'you spic'],
  ['cocker spaniel puppies', 'suck my cock'],
  ['my tranny is slipping, need new transmission fluid', 'that tranny over there'],
  ['the bitch had six puppies', 'son of a bitch stole my puppies'],
  ['hoe k moet denken', 'she is a hoe'],
  ['rakes and hoes in the garden shed', 'bitches and hoes'],
  ['@SS4_Fresh nice pic', 'kiss my @ss'],
  ['retarding the ignition timing', 'you retard'],
  ['the cock crowed at dawn', 'nice cock'],
  ['a half-cocked plan', 'cocks out'],
];

function check(rows: Row[]) {
  for (const [input, masked, spans] of rows) {
    const r = engine.mask(input);
    assert.equal(r.masked, masked, input);
    assert.equal(r.masked.length, input.length, `${input}: same length`);
    assert.deepEqual(
      r.spans.map((s) => [s.start, s.end, s.category]),
      spans,
      input,
    );
    assert.equal(r.flagged, true, input);
  }
}

describe('masking engine', () => {
  test('Korean words and their evasions are masked with exact spans', () => check(korean));
  test('English words and their evasions are masked with exact spans', () => check(english));
  test('Korean and English in one text', () => check(mixed));
  test('words that contain a listed one are not masked (Scunthorpe cases)', () => {
    for (const text of mustStay) assert.deepEqual(engine.mask(text), { masked: text, flagged: false, spans: [] }, text);
  });
  test('a word with a clean sense is left in that sense and masked in the profane one', () => {
    for (const [clean, profane] of bothWays) {
      assert.deepEqual(engine.mask(clean), { masked: clean, flagged: false, spans: [] }, clean);
      assert.equal(engine.mask(profane).flagged, true, profane);
    }
  });
  test('language limits which words apply', () => {
    assert.equal(engine.mask('시발 fuck', 'ko').masked, '** fuck');
    assert.equal(engine.mask('시발 fuck', 'en').masked, '시발 ****');
  });
  test('a masked text is left as it is when masked again', () => {
    const once = engine.mask('f*ck 시발').masked;
    assert.deepEqual(engine.mask(once), { masked: once, flagged: false, spans: [] });
  });

  test('recognized words with media times: masked text, char spans and media spans', () => {
    const r = engine.maskTimedWords([
      { text: '아', startMs: 1000, endMs: 1200 },
      { text: '시발', startMs: 1250, endMs: 1700 },
      { text: '진짜', startMs: 1750, endMs: 2100 },
      { text: 'what', startMs: 2200, endMs: 2400 },
      { text: 'the', startMs: 2400, endMs: 2500 },
      { text: 'fuck', startMs: 2500, endMs: 2900 },
    ]);
    assert.equal(r.masked, '아 ** 진짜 what the ****');
    assert.deepEqual(r.spans, [
      { start: 2, end: 4, category: 'profanity' },
      { start: 17, end: 21, category: 'profanity' },
    ]);
    assert.deepEqual(r.mediaSpans, [
      { startMs: 1250, endMs: 1700, category: 'profanity' },
      { startMs: 2500, endMs: 2900, category: 'profanity' },
    ]);
    assert.deepEqual(
      r.words.map((w) => [w.text, w.flagged]),
      [['아', false], ['**', true], ['진짜', false], ['what', false], ['the', false], ['****', true]],
    );
  });

  test('a word split by the recognizer over two words is bleeped over both', () => {
    const r = engine.maskTimedWords([
      { text: '시', startMs: 0, endMs: 150 },
      { text: '발', startMs: 200, endMs: 400 },
      { text: '뭐야', startMs: 500, endMs: 800 },
    ]);
    assert.equal(r.masked, '*** 뭐야');
    assert.deepEqual(r.mediaSpans, [{ startMs: 0, endMs: 400, category: 'profanity' }]);
    assert.deepEqual(r.words.map((w) => w.text), ['*', '*', '뭐야']);
  });
});

/** Resolves with the first of `events` the moderator emits, or rejects after `ms`. */
function next(moderator: Moderator, ms = 5000): Promise<keyof ModeratorEvents> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no reload within ${ms} ms`)), ms);
    const done = (what: keyof ModeratorEvents) => () => {
      clearTimeout(timer);
      moderator.off('reloaded', ok);
      moderator.off('reload-failed', failed);
      resolve(what);
    };
    const ok = done('reloaded');
    const failed = done('reload-failed');
    moderator.once('reloaded', ok);
    moderator.once('reload-failed', failed);
  });
}

describe("the operator's word list (MODERATION_WORDS_PATH)", () => {
  test('deny and allow lists apply, are reloaded on change, and a bad file keeps the previous list', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-words-'));
    const path = join(dir, 'words.json');
    writeFileSync(path, JSON.stringify({ deny: [{ word: 'frak', category: 'profanity', boundary: 'word' }, { word: '멍게', category: 'insult' }], allow: ['wtf'] }));
    const logs: Array<{ level: number; msg: string }> = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
    const moderator = await Moderator.open({ wordsPath: path, logger, reloadDebounceMs: 20 });
    try {
      assert.equal(moderator.mask('oh frak, 멍 게야').masked, 'oh ****, ***야');
      assert.equal(moderator.mask('wtf is this').flagged, false, 'the allow list takes a built-in word out');
      assert.equal(moderator.mask('fuck').masked, '****', 'built-in words stay');

      // Replaced the way editors do it: a new file renamed over the old one.
      let changed = next(moderator);
      writeFileSync(`${path}.tmp`, JSON.stringify({ deny: [{ word: 'grok', category: 'insult' }] }));
      renameSync(`${path}.tmp`, path);
      assert.equal(await changed, 'reloaded');
      assert.equal(moderator.mask('grok frak').masked, '**** frak');
      assert.equal(moderator.mask('wtf').masked, '***', 'the old allow list is gone');

      changed = next(moderator);
      writeFileSync(path, '{ "deny": [ { "word": "oops", ');
      assert.equal(await changed, 'reload-failed');
      assert.equal(moderator.mask('grok').masked, '****', 'the previous list is still in use');
      const warning = logs.find((l) => l.level === 40);
      assert.ok(warning, 'a warning is logged');
      assert.match(warning.msg, /kept the previous word list: MODERATION_WORDS_PATH: .*words\.json is not JSON/);

      changed = next(moderator);
      writeFileSync(path, JSON.stringify({ deny: [{ word: 'x', category: 'not-a-category' }] }));
      assert.equal(await changed, 'reload-failed');
      assert.equal(moderator.mask('grok').masked, '****');
      assert.ok(logs.some((l) => l.level === 40 && /deny\.0\.category/.test(l.msg)), 'the log names the bad field');
    } finally {
      moderator.close();
    }
  });

  test('a bad file at start is an error naming the file and the problem', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-words-'));
    const path = join(dir, 'words.json');
    writeFileSync(path, JSON.stringify({ deny: [{ word: '' , category: 'insult' }] }));
    await assert.rejects(Moderator.open({ wordsPath: path, logger: silent }), (err: Error) => err.message.includes(path) && /deny\.0\.word: must not be empty/.test(err.message));
    await assert.rejects(Moderator.open({ wordsPath: join(dir, 'missing.json'), logger: silent }), /MODERATION_WORDS_PATH: cannot read .*missing\.json/);
  });
});

describe('POST /api/v1/moderation/mask (development posture: open to anyone)', () => {
  let srv: RunningParley;
  before(async () => {
    srv = await startParley();
  });
  after(() => srv.close());

  test('one text', async () => {
    const r = await request(`${srv.url}/api/v1/moderation/mask`, { body: { text: '아 시발 what the f*ck' } });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, {
      masked: '아 ** what the ****',
      flagged: true,
      spans: [
        { start: 2, end: 4, category: 'profanity' },
        { start: 14, end: 18, category: 'profanity' },
      ],
    });
  });

  test('a batch is answered in the same order; language limits the words', async () => {
    const r = await request(`${srv.url}/api/v1/moderation/mask`, { body: { texts: ['hello', 'ㅅㅂ', 'shiitake', 'fuck 시발'], language: 'ko' } });
    assert.equal(r.status, 200);
    assert.deepEqual(
      r.body.results.map((x: { masked: string; flagged: boolean }) => [x.masked, x.flagged]),
      [['hello', false], ['**', true], ['shiitake', false], ['fuck **', true]],
    );
  });

  test('a full batch (100 texts, 50,000 characters) is accepted', async () => {
    const long = '시발 '.repeat(166) + '아';
    const r = await request(`${srv.url}/api/v1/moderation/mask`, { body: { texts: Array.from({ length: 100 }, () => long) } });
    assert.equal(r.status, 200);
    assert.equal(r.body.results.length, 100);
    assert.equal(r.body.results[99].masked, '** '.repeat(166) + '아');
  });

  test('bad input: more than 100 texts, a too-long text, neither or both, a bad language', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ texts: Array.from({ length: 101 }, () => 'hi') }, /texts: holds at most 100 texts per request; split the batch/],
      [{ text: 'a'.repeat(5_001) }, /text: must be at most 5000 characters/],
      [{ texts: Array.from({ length: 11 }, () => 'a'.repeat(5_000)) }, /texts: hold at most 50000 characters together; split the batch/],
      [{ texts: [] }, /texts: must hold at least one text/],
      [{}, /send either "text" \(one\) or "texts" \(a batch\)/],
      [{ text: 'a', texts: ['b'] }, /send either "text"/],
      [{ text: 'a', language: 'fr' }, /language/],
      [{ text: 42 }, /text/],
    ];
    for (const [body, message] of cases) {
      const r = await request(`${srv.url}/api/v1/moderation/mask`, { body });
      assert.equal(r.status, 400, JSON.stringify(body).slice(0, 80));
      assert.equal(r.body.success, false);
      assert.equal(r.body.error.code, 'INVALID_PAYLOAD');
      assert.match(r.body.error.message, message);
    }
  });
});

describe('POST /api/v1/moderation/mask (production posture: credentials needed)', () => {
  const apiKey = 'integrator-key';
  const apiSecret = 'integrator-secret-integrator-secret-0123';
  let srv: RunningParley;
  before(async () => {
    srv = await startParley({ NODE_ENV: 'production', LIVEKIT_API_KEY: apiKey, LIVEKIT_API_SECRET: apiSecret, SIGNUP_OPEN: 'true' });
  });
  after(() => srv.close());
  const url = () => `${srv.url}/api/v1/moderation/mask`;
  const basic = (k: string, s: string) => ({ authorization: `Basic ${Buffer.from(`${k}:${s}`).toString('base64')}` });

  test('anonymous callers are refused with the way in', async () => {
    const r = await request(url(), { body: { text: 'fuck' } });
    assert.equal(r.status, 401);
    assert.equal(r.body.error.code, 'UNAUTHORIZED');
    assert.match(r.body.error.message, /ALLOW_ANONYMOUS_MODERATION/);
  });

  test('the LiveKit key pair may call; a wrong secret may not', async () => {
    const ok = await request(url(), { body: { text: 'fuck' }, headers: basic(apiKey, apiSecret) });
    assert.equal(ok.status, 200);
    assert.equal(ok.body.masked, '****');
    const wrong = await request(url(), { body: { text: 'fuck' }, headers: basic(apiKey, 'nope') });
    assert.equal(wrong.status, 401);
  });

  test('a signed-in account may call; a forged token may not', async () => {
    const admin = await firstAdmin(srv.url);
    const ok = await request(url(), { body: { texts: ['시발'] }, token: admin.token });
    assert.equal(ok.status, 200);
    assert.equal(ok.body.results[0].masked, '**');
    const forged = await request(url(), { body: { text: 'x' }, token: 'not-a-token' });
    assert.equal(forged.status, 401);
  });

  test('ALLOW_ANONYMOUS_MODERATION=true opens it in production, and the start-up posture names it', async () => {
    const open = await startParley({ NODE_ENV: 'production', ALLOW_ANONYMOUS_MODERATION: 'true' });
    try {
      const r = await request(`${open.url}/api/v1/moderation/mask`, { body: { text: 'shit' } });
      assert.equal(r.status, 200);
      assert.equal(r.body.masked, '****');
    } finally {
      await open.close();
    }
    const env = { NODE_ENV: 'production', JWT_SECRET: 'test-secret-test-secret-test-secret-0123' };
    assert.ok(describePosture(loadConfig({ ...env, ALLOW_ANONYMOUS_MODERATION: 'true' }, randomSecret)).open.some((o) => o.includes('ALLOW_ANONYMOUS_MODERATION')));
    assert.ok(!describePosture(loadConfig(env, randomSecret)).open.some((o) => o.includes('moderation')));
    assert.ok(describePosture(loadConfig({}, randomSecret)).open.some((o) => o.includes('ALLOW_ANONYMOUS_MODERATION')), 'open by default in development');
  });
});

describe("seed 002's chat is relayed masked", () => {
  let srv: RunningParley;
  before(async () => {
    srv = await startParley();
  });
  after(() => srv.close());

  test('chat:send-message and chat:video-message carry the masked text to everyone, the sender included', async () => {
    const alice = await connect(srv.url, { auth: { userId: 'user-a' } });
    const bob = await connect(srv.url, { auth: { userId: 'user-b' } });
    try {
      alice.emit('presence:join-study', { studyId: 'study-m' });
      bob.emit('presence:join-study', { studyId: 'study-m' });
      await once(alice, 'presence:user-online');
      const toBob = once(bob, 'chat:message-received');
      const toAlice = once(alice, 'chat:message-received');
      const ack = await alice.timeout(3000).emitWithAck('chat:send-message', { studyId: 'study-m', message: '이 시발 f*ck 진짜', type: 'text' });
      assert.equal(ack.ok, true);
      for (const m of [await toBob, await toAlice]) {
        assert.equal(m.message, '이 ** **** 진짜');
        assert.equal(m.userId, 'user-a');
      }

      const joined = once(alice, 'video:room-state');
      alice.emit('video:join-room', { studyId: 'study-m', roomId: 'room-m' });
      await joined;
      const bobJoined = once(bob, 'video:room-state');
      bob.emit('video:join-room', { studyId: 'study-m', roomId: 'room-m' });
      await bobJoined;
      const inCall = once(alice, 'chat:video-message-received');
      const echo = once(bob, 'chat:video-message-received');
      bob.emit('chat:video-message', { roomId: 'room-m', message: 'ㅅㅂ shit happens' });
      for (const m of [await inCall, await echo]) {
        assert.equal(m.message, '** **** happens');
        assert.equal(m.userId, 'user-b');
      }

      const clean = once(bob, 'chat:video-message-received');
      alice.emit('chat:video-message', { roomId: 'room-m', message: 'shiitake class 시발점' });
      assert.equal((await clean).message, 'shiitake class 시발점');
    } finally {
      alice.close();
      bob.close();
    }
  });
});

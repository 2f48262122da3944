/**
 * Parley's built-in Korean and English word list. Operators add to it (and allow words out of
 * it) with MODERATION_WORDS_PATH (docs/moderation.md). Each entry is a base spelling: the
 * matcher adds the evasions (spacing, jamo, digits and symbols, repeated letters,
 * look-alikes, tensed consonants), so variants are listed only where the spelling itself changes.
 */
import type { DenyEntry, WordList } from './types.js';

const ko = (category: DenyEntry['category'], words: string, boundary?: DenyEntry['boundary']): DenyEntry[] => words.split(/\s+/).filter(Boolean).map((word) => ({ word, category, boundary }));
const en = (category: DenyEntry['category'], boundary: DenyEntry['boundary'], words: string): DenyEntry[] =>
  words.split(/\s+/).filter(Boolean).map((word) => ({ word, category, boundary }));

export const builtInWords: WordList = {
  deny: [
    // Korean. Tensed initials (ㅅ/ㅆ, ㅂ/ㅃ, ㄱ/ㄲ, ㅈ/ㅉ, ㄷ/ㄸ) and ㅐ/ㅔ, ㅣ/ㅢ/ㅟ are matched by the engine.
    ...ko('profanity', '시발 시바 시벌 시팔 시빨 십팔 십발 씨부랄 시부랄 씨불 ㅅㅂ ㅅㅍ ㅆㅂ 좆 좃 존나 졸라 존니 존내 ㅈㄴ 지랄 지럴 ㅈㄹ 염병 엠창 썅 빌어먹 개소리 젖같 개젖 조낸 좟 ㅈ까 ㅈ됨 ㅈ됐 개지랄 개같 뒤져 뒈져 디져라 꺼져 닥쳐 ㄲㅈ ㄷㅊ 엿먹 씹 니미 tlqkf tlqk tlbal ssibal shibal sibal'),
    ...ko('insult', '병신 븅신 빙신 병쉰 ㅂㅅ 등신 새끼 새기 섀끼 세끼 색기 색끼 새꺄 ㅅㄲ 개새끼 개색기 개색히 개세끼 개섀끼 개놈 개년 개돼지 미친놈 미친년 미친새 미친 미쳤냐 ㅁㅊ 또라이 돌아이 ㄸㄹㅇ 찐따 정신병자 애미 애비 에미 느금 니애미 니엄 찌질 한심 호로새끼 후레자식 쌍놈 상놈 놈아 년아 빡대가리 대가리 버러지 멍충 멍청한 샛끼 새퀴 쳐먹 처먹 쳐입 쳐발 아가리 저능아 좁밥 느그 ㅈ되 ㅄ 머가리 눈깔 꼴값 꼬라지 꼴보기 양아치 쓰레기같 쓰레기들 쑤레기 qudtls'),
    ...ko('slur', '한남 김치녀 된장녀 짱깨 짱개 쪽바리 깜둥이 흑형 홍어 빨갱이 틀딱 급식충 맘충 한남충 일베충 벌레 좌좀 메갈 꼴페미 대깨문 재앙이 문재앙 뇌물현 개독 조센징 센징 쪽본 틀딱 일게이 베충 섬숭이'),
    ...ko('sexual', '보지 자지', 'prefix'),
    // Vulgar sexual words only: 섹스 (sex), 강간 (rape) and 야동 (porn) are plain vocabulary — a customer
    // reporting a crime must be heard, not masked.
    ...ko('sexual', '따먹 창녀 걸레 딸딸이 좆물 보빨 섹파 꼴리 떡치 질싸 후장 딜도'),
    // English.
    ...en('profanity', 'infix', 'fuck fuk fck phuck shit bullshit motherfucker'),
    ...en('profanity', 'word', 'fucks fucc fu fk fkn fkin stfu wtf shitty'),
    ...en('profanity', 'prefix', 'bastard asshole arsehole jackass dumbass dipshit'),
    ...en('profanity', 'word', 'ass arse asses'),
    ...en('insult', 'infix', 'bitch cunt twat wanker'),
    ...en('insult', 'word', 'hoe hoes thot skank douche douchebag prick dick dickhead moron idiot retard retarded tranny scum'),
    ...en('insult', 'prefix', 'slut whore bitchass'),
    ...en('slur', 'infix', 'nigger nigga niglet'),
    ...en('slur', 'word', 'niggas niggaz nigs nig nigguh niggy nicca niccas fag fags faggot faggots dyke dykes spic chink kike gook wetback beaner'),
    // `porn` is a plain word (news of a "porn star", a customer's complaint), not profanity.
    ...en('sexual', 'word', 'cock cocks cum cumshot tits titties boobs blowjob handjob dildo jizz'),
    ...en('sexual', 'prefix', 'pussy pussies cocksucker'),
  ],
  allow: [
    // English words that contain a listed one but are not profanity (the "Scunthorpe problem").
    'shiitake', 'shitake', 'scunthorpe', 'moby dick', 'snigger', 'sniggering', 'niggard', 'niggardly', 'cocktail', 'hancock', 'peacock', 'retardant', 'flame retardant',
    'penistone', 'arsenal', 'dickens', 'dick van dyke', 'ho chi minh', 'cumin', 'cumulative', 'document', 'therapist', 'bassist', 'hoedown', 'white trash bin',
    'pussy cat', 'pussy cats', 'pussycat', 'pussycats', 'kushite', 'cushite', 'gobbledygook', 'gobbledy gook', 'gobble de gook', 'chink in', 'chinks in',
    'rotary hoe', 'garden hoe', 'hoe down', 'hoe downs',
    // Dutch `hoe` (how) before the words that follow it there.
    'hoe de', 'hoe het', 'hoe een', 'hoe ze', 'hoe je', 'hoe we', 'hoe vaak', 'hoe groot', 'hoe lang', 'hoe veel', 'hoe wonderbaarlijk',
    // Korean: 시발점 (starting point), 시발역 (first station), 시발택시/시발자동차 (the 1955 car), 시바견 (Shiba dog);
    // 수박씨 발라 먹어 (pick out the watermelon seeds), 씨발라 (seeds peeled); 보지/자지 마 (don't watch / don't sleep);
    // 새끼손가락 (little finger) and young animals; 씹다 (to chew); 한남동/한남대교 (places); 홍어회 (the fish).
    '시발점', '시발역', '시발택시', '시발자동차', '시바견', '시바 이누', '시바이누', '박씨발라', '씨발라먹', '씨발라내', '씨 발라', '씨발라 먹', '씨발라서',
    '보지마', '보지 마', '보지도', '보지 않', '보지않', '보지 못', '보지못', '보지는', '보지만', '보지요', '자지마', '자지 마', '자지도', '자지않', '자지 않', '자지 못', '자지못', '자지는',
    '새끼손가락', '새끼발가락', '새끼줄', '새끼 고양이', '새끼고양이', '새끼 강아지', '새끼를 낳', '새끼를 배',
    '씹다', '씹어', '씹는', '씹고', '씹을', '씹히', '씹으',
    '한남동', '한남대교', '한남역', '한남대', '홍어회', '홍어삼합', '홍어무침', '벌레 먹', '벌레가', '벌레를', '벌레는', '벌레도',
    '삼시세끼', '하루 세끼', '하루세끼', '세끼 식사', '세끼를', '전염병', '뒤져보', '뒤져봐',
    '미친듯이', '미친 듯이', '미친 척', '쓰레기통', '쓰레기 봉투', '쓰레기봉투', '쓰레기장', '음식물 쓰레기', '쓰레기 분리', '분리수거',
    '걸레질', '걸레로', '물걸레', '한심해서', '꼴리지',
    // 씨바둑 (Mr … + 바둑, the game of go); "-나 보지" (I guess: 되나 보지, 있나 보지).
    '씨바둑', '시바둑', '나 보지',
  ],
};

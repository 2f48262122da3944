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

/** Every joining of a first part with a last part (`phrases(['불'], [' 꺼져'])`). */
const phrases = (firsts: readonly string[], lasts: readonly string[]): string[] => firsts.flatMap((a) => lasts.map((b) => a + b));

/** A noun with its subject particle (이 after a final consonant, 가 after a vowel), then `rest`. */
const subjectOf = (nouns: readonly string[], rest: string): string[] =>
  nouns.map((n) => {
    const last = n.charCodeAt(n.length - 1);
    const hasFinal = last >= 0xac00 && last <= 0xd7a3 && (last - 0xac00) % 28 !== 0;
    return `${n}${hasFinal ? '이' : '가'}${rest}`;
  });

/** Animals whose young are called 새끼 (not 개, 돼지, 쥐, whose 새끼 is an insult). */
const youngOf = ['강아지', '고양이', '호랑이', '사자', '곰', '여우', '늑대', '토끼', '사슴', '코끼리', '기린', '판다', '펭귄', '오리', '거위', '백조', '독수리', '참새', '제비', '비둘기', '고래', '돌고래', '물개', '상어', '거북이', '다람쥐', '햄스터', '고슴도치', '수달', '너구리', '캥거루', '코알라', '염소', '양', '물고기', '연어', '악어', '표범', '치타', '하마', '얼룩말', '낙타', '부엉이', '올빼미', '까치', '새'];

/** Dutch words that English (and the tweets' slang) does not use: two of them make `hoe` the Dutch "how". */
const dutchWords = ['het', 'een', 'niet', 'ik', 'jij', 'wij', 'zij', 'maar', 'zijn', 'moet', 'moest', 'mij', 'ook', 'zal', 'naar', 'voor', 'heb', 'hebben', 'kunnen', 'worden', 'wordt', 'deze', 'nog', 'bij', 'doen', 'gaan', 'weet', 'waarom', 'waar', 'denken', 'mensen', 'vertellen', 'uitleggen', 'precies', 'vandaan', 'wel', 'veel', 'goed', 'als', 'dit', 'zo', 'je', 'ze', 'we', 'er', 'wat', 'kan', 'komt', 'zegt', 'vaak', 'lang', 'groot', 'meer', 'hoeveel', 'gaat', 'tweet', 'volg'];

export const builtInWords: WordList = {
  deny: [
    // Korean. Tensed initials (ㅅ/ㅆ, ㅂ/ㅃ, ㄱ/ㄲ, ㅈ/ㅉ, ㄷ/ㄸ) and ㅐ/ㅔ, ㅣ/ㅢ/ㅟ are matched by the engine.
    ...ko('profanity', '시발 시바 시벌 시팔 시빨 십팔 십발 씨부랄 시부랄 씨불 ㅅㅂ ㅅㅍ ㅆㅂ 좆 좃 존나 졸라 존니 존내 ㅈㄴ 지랄 지럴 ㅈㄹ 염병 엠창 썅 빌어먹 개소리 젖같 개젖 조낸 좟 ㅈ까 ㅈ됨 ㅈ됐 개지랄 개같 뒤져 뒈져 뒈지 뒤질듯 뒤질래 디져라 꺼져 닥쳐 ㄲㅈ ㄷㅊ 엿먹 씹 니미 니기미 잣같 잣까 씨부리 씨부렁 쳐맞 처맞 tlqkf tlqk tlbal ssibal shibal sibal'),
    ...ko('insult', '병신 븅신 빙신 병쉰 ㅂㅅ 등신 새끼 새기 섀끼 세끼 색기 색끼 새꺄 ㅅㄲ 개새끼 개색기 개색히 개세끼 개섀끼 개놈 개년 개돼지 미친놈 미친년 미친새 미친 미쳤냐 ㅁㅊ 또라이 돌아이 ㄸㄹㅇ 찐따 정신병자 애미 애비 에미 느금 니애미 니엄 느검 찌질 한심 호로새끼 후레자식 쌍놈 상놈 놈아 년아 빡대가리 대가리 버러지 멍충 멍청한 샛끼 새퀴 쳐먹 처먹 쳐입 쳐발 아가리 저능아 좁밥 느그 ㅈ되 ㅄ 머가리 눈깔 꼴값 꼬라지 꼴보기 양아치 쓰레기같 쓰레기들 쑤레기 새키 시끼 쉐끼 쉐키 생키 시키들 개새들 개새야 써글 년놈 따까리 똥구멍 qudtls'),
    // 벌레 alone is an insect (a customer finding one in the food must be heard), like 쓰레기 alone is rubbish: it is
    // masked said of people (벌레같은, 벌레만도 못한). 재앙이 alone is 재앙 "disaster" with its particle; as the
    // nickname it takes particles of its own (재앙이가, 재앙이탓).
    ...ko('slur', '한남 김치녀 된장녀 짱깨 짱개 쪽바리 깜둥이 흑형 홍어 빨갱이 틀딱 급식충 맘충 한남충 일베충 벌레같 벌레만도 좌좀 메갈 꼴페미 대깨문 재앙이가 재앙이는 재앙이를 재앙이한 재앙이탓 문재앙 뇌물현 개독 조센징 센징 쪽본 틀딱 일게이 베충 섬숭이'),
    ...ko('sexual', '보지 자지', 'prefix'),
    // Vulgar sexual words only: 섹스 (sex), 강간 (rape) and 야동 (porn) are plain vocabulary — a customer
    // reporting a crime must be heard, not masked.
    ...ko('sexual', '따먹 창녀 걸레 딸딸이 좆물 보빨 섹파 꼴리 떡치 질싸 후장 딜도 개보지 개자지 부랄 불알 폰섹'),
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
    '한남동', '한남대교', '한남역', '한남대', '홍어회', '홍어삼합', '홍어무침',
    '삼시세끼', '하루 세끼', '하루세끼', '세끼 식사', '세끼를', '전염병', '뒤져보', '뒤져봐',
    '미친듯이', '미친 듯이', '미친 척', '쓰레기통', '쓰레기 봉투', '쓰레기봉투', '쓰레기장', '음식물 쓰레기', '쓰레기 분리', '분리수거',
    '걸레질', '걸레로', '물걸레', '한심해서', '꼴리지',
    // 씨바둑 (Mr … + 바둑, the game of go); "-나 보지" (I guess: 되나 보지, 있나 보지).
    '씨바둑', '시바둑', '나 보지',
    // Verbs and nouns of everyday Korean that hold a listed word (what a customer says on a call):
    // 새기다 "engrave, take to heart" (되새기다 "reflect on"); 꺼지다 "go off" (the power, the screen);
    // 닥쳐오다 "draw near" (a crisis); 뒤지다 "rummage"; 조르다 "pester", 졸라매다 "tighten";
    // 미치다 "reach, affect" (영향을 미친, 기대에 못 미친) and "be crazy about" (축구에 미친);
    // 고쳐먹다 "change one's mind", 걸쳐입다 "throw on"; 다시 발급 "reissue".
    '되새기', '아로새기', '에 새기', '새기다', '새기고', '새기는', '새기며', '새기겠', '새기면', '새기세요', '새기기', '새기도록', '새긴다',
    ...phrases(['꺼져'], ['서', ' 있', '있', ' 버', '버', ' 가', '가는', '도']),
    ...subjectOf(['불', '전원', '화면', '폰', '핸드폰', '휴대폰', '스마트폰', '컴퓨터', '노트북', '모니터', '티비', '텔레비전', '시동', '엔진', '전기', '조명', '전등', '기계', '보일러', '에어컨', '냉장고', '앱', '와이파이', '촛불', '알람', '카메라', '마이크'], ' 꺼져'),
    ...phrases(['자꾸', '계속', '갑자기', '저절로', '혼자', '자동으로', '금방', '쉽게', '수시로'], [' 꺼져']),
    ...phrases(['닥쳐'], ['오', '올', '온', '와', '서']),
    ...subjectOf(['위기', '재앙', '재난', '시련', '불행', '위험', '한파', '추위', '태풍', '현실', '마감', '시험', '고난'], ' 닥쳐'),
    '앞에 닥쳐', '을 뒤져', '를 뒤져', '뒤져도', '뒤져서', '뒤져 보', '뒤져야', '샅샅이 뒤져',
    '졸라서', '졸라대', '졸라 대', '졸라매', '졸라 매', '를 졸라', '을 졸라', '조르고 졸라',
    '에 미친', '을 미친', '를 미친', '못 미친', '못미친', '미친듯', '미친 듯', '미친척',
    '고쳐먹', '걸쳐입', '받쳐입', '부쳐먹', '다시발', '다시바', '가시바',
    // Counted things: 5개년 계획 "five-year plan", 십팔일 "the 18th", 십팔번 "one's party song",
    // 등신대 "life-size", 팔등신 "well proportioned".
    ...phrases(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '수', '몇', '몇 '], ['개년']),
    ...phrases(['십팔', '십팔 '], ['일', '번', '세', '살', '만', '시', '분', '층', '호', '개', '명', '점', '원', '등', '회', '주', '평', '대', '위', '권', '장']),
    '등신대', '등신불', '팔등신', '칠등신', '구등신', '7등신', '8등신', '9등신', '병신년 새해',
    // Animals' young (새끼 alone is masked; 개·돼지·쥐 새끼 are insults and stay masked).
    ...phrases(youngOf, [' 새끼', '새끼', '의 새끼']),
    ...phrases(['새끼 ', '새끼'], youngOf),
    '어미와 새끼', '어미랑 새끼', '새끼를 품', '새끼를 돌보', '새끼에게 젖', '새끼들에게 젖',
    // Food and games: fish heads in cooking, 눈깔사탕 "a gobstopper", 땅따먹기 / 딱지 따먹기 (children's games),
    // picking fruit, 홍어 (the skate) dishes, 떡치기 (pounding rice cakes at a folk village).
    ...phrases(['멸치', '생선', '물고기', '콩나물', '새우', '명태', '고등어', '오징어', '조기'], [' 대가리', '대가리']),
    '대가리를 떼', '대가리 떼', '대가리를 따', '대가리 따', '눈깔사탕',
    '땅따먹기', '땅 따먹기', '딱지따먹기', '딱지 따먹기', '따먹기 놀이', '따먹기 게임',
    ...phrases(['사과', '배', '감', '딸기', '산딸기', '포도', '열매', '과일', '오디', '복숭아', '앵두', '자두', '귤', '토마토', '참외', '수박', '밤'], ['를 따먹', '을 따먹', ' 따먹', '따먹']),
    '홍어탕', '홍어찜', '홍어애', '홍어 요리', '삭힌 홍어', '흑산도 홍어', '떡치기 체험', '떡 치기 체험', '떡치기 행사',
    // 걸레 "a rag" in cleaning (as a word for a woman it stays masked).
    '걸레받이', '걸레를 빨', '걸레 빨', '걸레빨', '대걸레', '마른걸레', '마른 걸레', '젖은걸레', '젖은 걸레', '밀대걸레', '밀대 걸레', '스팀걸레', '스팀 걸레', '걸레 청소', '행주',
    // Places: 한남 is a district of Seoul (한남3구역 is its redevelopment zone).
    '한남3구역', '한남 3구역', '한남뉴타운', '한남 뉴타운', '한남더힐', '한남오거리', '한남나들목', '한남터널', '한남 재개발',
    // English: martial arts, Latin, birds, needles, cleaning, plants, a dog breed, places and people.
    'kung fu', 'gong fu', 'cum laude', '-cum-', 'spic and span', 'spick and span', 'spic-and-span', 'spic n span',
    'blue tit', 'blue tits', 'coal tits', 'marsh tits', 'willow tits', 'crested tits', 'long-tailed tits',
    'pin prick', 'finger prick', 'finger-prick', 'needle prick', 'skin prick', 'prick test', 'pricked up', 'prick up',
    'soap scum', 'pussy willow', 'pussy willows', 'cocker spaniel', 'cocker spaniels', 'half-cocked', 'half cocked', 'cocked hat',
    'niger river', 'niger delta', 'republic of niger', 'in niger', 'to niger', 'from niger', 'niger state', 'spicer', 'fagin',
  ],
  context: [
    // A car's `tranny` is its transmission.
    { words: ['tranny'], near: ['motor', 'engine', 'transmission', 'gearbox', 'clutch', 'fluid', 'rebuild', 'rebuilt', 'swap', 'automatic', 'manual', 'axle', 'diff', 'mpg', 'car', 'truck', 'van', 'ford', 'chevy', 'dodge', 'jeep', 'v8', 'v6', 'turbo', 'shifter', 'shifting', 'gears', 'torque', 'rpm', 'mechanic', 'miles', 'slipping', '4x4', '302', '350'] },
    // A breeder's `bitch` is a female dog.
    { words: ['bitch', 'bitches'], near: ['puppy', 'puppies', 'litter', 'litters', 'whelp', 'whelped', 'whelping', 'breeder', 'breeders', 'breeding', 'sire', 'kennel', 'spay', 'spayed', 'pedigree', 'akc'], window: 8, unless: ['son of a bitch', 'sons of bitches', 'bitch ass', 'bitchass'] },
    // A `hoe` in the garden, and the Dutch `hoe` ("how"): two Dutch words anywhere in the text.
    { words: ['hoe', 'hoes'], near: ['garden', 'gardening', 'weeding', 'weeds', 'rake', 'rakes', 'shovel', 'shovels', 'spade', 'soil', 'tiller', 'planting', 'farm', 'farming'], window: 5 },
    { words: ['hoe'], near: dutchWords, window: 0, atLeast: 2 },
    // The rooster, and the cocked gun.
    { words: ['cock', 'cocks'], near: ['crow', 'crowed', 'crowing', 'crows', 'rooster', 'hen', 'hens', 'chicken', 'chickens', 'farm', 'barnyard', 'coop', 'gun', 'pistol', 'rifle', 'revolver', 'hammer', 'trigger', 'fight', 'fighting'], window: 5 },
    // Birds at the feeder.
    { words: ['tits'], near: ['bird', 'birds', 'feeder', 'feeders', 'nest', 'nesting', 'nestbox', 'chicks', 'robins', 'sparrows', 'finches', 'birdwatching', 'rspb'], window: 6 },
    // A pricked finger, a pricked conscience.
    { words: ['prick'], near: ['finger', 'fingers', 'needle', 'needles', 'thorn', 'thorns', 'pin', 'pins', 'skin', 'blood', 'ears', 'conscience', 'test'], window: 3 },
    // Timing retarded on an engine, growth retarded in a plant.
    { words: ['retard'], near: ['timing', 'ignition', 'spark', 'flame', 'fire', 'growth', 'cam', 'valve', 'engine'], window: 4 },
    // A man called Dick (Dick Cheney, Philip K. Dick); the word alone stays masked.
    { words: ['dick'], asName: true },
  ],
};

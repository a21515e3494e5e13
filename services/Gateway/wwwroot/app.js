// The platform's dashboard: plain JavaScript over the public API, with the user's key (kept for the browser session).
(function () {
  'use strict';

  const KEY = 'platform.apiKey', LANG = 'platform.language';
  const state = { key: sessionStorage.getItem(KEY), me: null, lang: localStorage.getItem(LANG) || 'en', stop: null };

  // ---- text, in English and Chinese -------------------------------------------------------------------------------
  const TEXT = {
    en: {
      datasets: 'Datasets', runs: 'Runs', models: 'Models', playground: 'Playground', attention: 'Attention',
      api: 'API', signOut: 'Sign out',
      signIn: 'Sign in', apiKey: 'API key', upload: 'Upload', dropHere: 'Drop a UTF-8 text file here, or choose one',
      redact: 'Redact before storing', autoTrain: 'Train a model when tokenized', steps: 'steps', name: 'Name',
      tokenizer: 'Tokenizer',
      compare: 'Compare selected', cancel: 'Cancel run', resume: 'Resume run', state: 'State', step: 'Step',
      generate: 'Generate',
      explain: 'Explain', prompt: 'Prompt', model: 'Model', moveAlias: 'Move alias', download: 'Download',
      alias: 'Alias', version: 'Version',
      noPermission: 'You do not have permission to do this.', yourRole: 'Your key\'s role is',
      askAdmin: 'Ask an admin for a key with more rights.',
      signedOutKey: 'This key was not accepted. Sign in again with a valid key.', loading: 'Loading…',
      none: 'Nothing here yet.',
      alternatives: 'Top alternatives for', layer: 'Layer', head: 'Head', saliency: 'Saliency of each prompt token',
      shared: 'Shared with', everyone: 'every key', keys: 'keys', onlyOwner: 'its owner only',
      shareEveryone: 'Share with every key', makePrivate: 'Make private',
      format: 'Format', formatText: 'text', formatPairs: 'pairs (TSV or JSON lines)',
      formatChat: 'conversations (JSON lines)',
      chat: 'Chat', send: 'Send', message: 'Message', systemMessage: 'System message', jsonSchema: 'JSON schema',
      schemaHint: 'Replies follow this schema when it is given', template: 'Chat template', noTemplate:
        'This version has no chat template: it was not trained on conversations.', badSchema:
        'The JSON schema is not valid JSON.',
      epoch: 'Epoch', epochs: 'epochs', newRun: 'New run', dataset: 'Dataset', layers: 'Layers', heads: 'Heads',
      width: 'Width', block: 'Block', length: 'Length', unit: 'Unit', batch: 'Batch', learningRate: 'Learning rate',
      estimate: 'Estimate', startRun: 'Start run', parameters: 'Parameters', tokens: 'Tokens',
      memory: 'Peak memory / worker', time: 'Time', fits: 'Fits', loss: 'Loss', smoothing: 'Smoothing',
      otherMetrics: 'Other metrics', metric: 'Metric', tag: 'Tag', select: 'Select',
      watchRun: 'Watch its training run →', uploadLost: 'The upload did not reach the platform.',
      characters: 'Characters', vocabulary: 'Vocabulary', trainTokens: 'Train tokens', redacted: 'Redacted',
      owner: 'Owner', anyState: 'any state', progress: 'Progress', bestValLoss: 'Best val loss', tags: 'Tags',
      valLoss: 'Val loss', tokensPerSecond: 'tokens/s', eta: 'ETA', cost: 'Cost', parameter: 'Parameter',
      waitingForRun: 'Waiting for the run to be created…', latest: 'Latest', versions: 'Versions',
      updated: 'Updated', aliases: 'Aliases', evalLoss: 'Eval loss', top1: 'Top-1', top5: 'Top-5',
      macroRecall: 'Macro recall', architecture: 'Architecture', base: 'Base', aliasHistory: 'Alias history',
      from: 'From', to: 'To', by: 'By', maxTokens: 'Max tokens', temperature: 'Temperature', seed: 'Seed',
      nextToken: 'Next token', run: 'Run', beyondWindow: 'Beyond the window the model can explain at once',
      pickTwo: 'Pick two or more runs.', 'redact-email': 'email', 'redact-phone': 'phone', 'redact-ip': 'IP',
      'redact-creditCard': 'credit card', 'redact-cnId': 'Chinese ID', exportFormat: 'Download as',
      sweeps: 'Sweeps', evaluations: 'Evaluations', keysNav: 'Keys', audit: 'Audit log', strategy: 'Strategy',
      objective: 'Objective', best: 'Best', created: 'Created', evaluate: 'Evaluate', figure: 'Figure', value: 'Value',
      apiKeys: 'API keys', role: 'Role', prefix: 'Prefix', createdBy: 'Created by', lastUsed: 'Last used',
      revoked: 'Revoked', revoke: 'Revoke', createKey: 'Create key', when: 'When', key: 'Key', request: 'Request',
      status: 'Status', detail: 'Detail',
      keyOnce: 'Copy this key now: it is shown this once, and the platform keeps only its hash.',
      sweepsHint: 'Start a sweep with the API or the CLI (platform sweeps start); follow it here.',
      auditHint: 'Every write through the gateway, newest first: who, what, and how it was answered.',
      external: 'logged by a script', search: 'Search', files: 'Files', size: 'Size', path: 'Path',
      experiment: 'Experiment',
    },
    zh: {
      datasets: '数据集', runs: '训练运行', models: '模型', playground: '试用', attention: '注意力', api: 'API', signOut: '退出',
      signIn: '登录', apiKey: 'API 密钥', upload: '上传', dropHere: '将 UTF-8 文本文件拖到这里，或选择文件',
      redact: '存储前脱敏', autoTrain: '分词后训练模型', steps: '步', name: '名称', tokenizer: '分词器',
      compare: '比较所选', cancel: '取消运行', resume: '继续运行', state: '状态', step: '步数', generate: '生成',
      explain: '解释', prompt: '提示词', model: '模型', moveAlias: '移动别名', download: '下载', alias: '别名', version: '版本',
      noPermission: '您没有执行此操作的权限。', yourRole: '您的密钥角色是', askAdmin: '请向管理员申请权限更高的密钥。',
      signedOutKey: '此密钥未被接受，请使用有效的密钥重新登录。', loading: '加载中…', none: '暂无内容。',
      alternatives: '候选词：', layer: '层', head: '头', saliency: '各提示词元的显著性',
      shared: '共享给', everyone: '所有密钥', keys: '个密钥', onlyOwner: '仅所有者',
      shareEveryone: '共享给所有密钥', makePrivate: '设为私有',
      format: '格式', formatText: '文本', formatPairs: '句对（TSV 或 JSON 行）', formatChat: '对话（JSON 行）',
      chat: '对话', send: '发送', message: '消息', systemMessage: '系统消息', jsonSchema: 'JSON 模式',
      schemaHint: '填写后，回复将遵循此模式', template: '对话模板', noTemplate: '此版本没有对话模板：它未在对话数据上训练。',
      badSchema: 'JSON 模式不是有效的 JSON。',
      epoch: '轮次', epochs: '轮', newRun: '新建训练', dataset: '数据集', layers: '层数', heads: '注意力头', width: '宽度',
      block: '上下文长度', length: '长度', unit: '单位', batch: '批大小', learningRate: '学习率', estimate: '估算',
      startRun: '开始训练', parameters: '参数量', tokens: '词元数', memory: '峰值内存 / 工作节点', time: '时间', fits: '可容纳',
      loss: '损失', smoothing: '平滑', otherMetrics: '其他指标', metric: '指标', tag: '标签', select: '选择',
      watchRun: '查看其训练运行 →', uploadLost: '上传未能到达平台。', characters: '字符数', vocabulary: '词表大小',
      trainTokens: '训练词元数', redacted: '已脱敏', owner: '所有者', anyState: '任意状态', progress: '进度',
      bestValLoss: '最佳验证损失', tags: '标签', valLoss: '验证损失', tokensPerSecond: '词元/秒', eta: '预计剩余',
      cost: '成本', parameter: '参数', waitingForRun: '正在等待创建训练运行…', latest: '最新', versions: '版本数',
      updated: '更新时间', aliases: '别名', evalLoss: '评估损失', top1: 'Top-1 准确率', top5: 'Top-5 准确率',
      macroRecall: '宏召回率', architecture: '架构', base: '基础模型', aliasHistory: '别名历史', from: '从', to: '到',
      by: '操作者', maxTokens: '最大词元数', temperature: '温度', seed: '随机种子', nextToken: '下一个词元', run: '运行',
      beyondWindow: '超出模型一次能解释的窗口', pickTwo: '请选择两个或更多运行。', 'redact-email': '电子邮件',
      'redact-phone': '电话号码', 'redact-ip': 'IP 地址', 'redact-creditCard': '信用卡号', 'redact-cnId': '身份证号',
      exportFormat: '下载格式',
      sweeps: '超参数搜索', evaluations: '评估', keysNav: '密钥', audit: '审计日志', strategy: '策略', objective: '目标',
      best: '最佳', created: '创建时间', evaluate: '评估', figure: '指标', value: '值', apiKeys: 'API 密钥', role: '角色',
      prefix: '前缀', createdBy: '创建者', lastUsed: '最近使用', revoked: '已吊销', revoke: '吊销', createKey: '创建密钥',
      when: '时间', key: '密钥', request: '请求', status: '状态', detail: '详情',
      keyOnce: '请立即复制此密钥：它只显示这一次，平台只保存其哈希值。',
      sweepsHint: '通过 API 或命令行（platform sweeps start）启动搜索，在这里跟踪进度。',
      auditHint: '经网关的每一次写操作，最新的在前：谁、做了什么、结果如何。',
      external: '由脚本记录', search: '搜索', files: '文件', size: '大小', path: '路径', experiment: '实验',
    },
  };
  const t = key => (TEXT[state.lang] && TEXT[state.lang][key]) || TEXT.en[key] || key;

  // ---- DOM ----------------------------------------------------------------------------------------------------------
  // Everything users or models wrote is set as text, never as HTML.
  function h(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else if (k === 'dataset') Object.assign(e.dataset, v);
      else if (k === 'style') e.setAttribute('style', v);
      else if (k in e && k !== 'list') e[k] = v;
      else e.setAttribute(k, v === true ? '' : v);
    }
    for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) e.append(c instanceof Node ? c
      : String(c));
    return e;
  }
  const view = () => document.getElementById('view');
  const fmt = (x, digits) =>
    x === null || x === undefined ? '—' : typeof x === 'number'
    ? (Number.isInteger(x) ? x.toLocaleString() : x.toFixed(digits ?? 4)) : String(x);
  const when = iso => iso ? new Date(iso).toLocaleString() : '—';
  const duration = s =>
    s === null || s === undefined ? '—' : s < 90 ? `${Math.round(s)} s` : s < 5400 ? `${Math.round(s / 60)} min`
    : `${(s / 3600).toFixed(1)} h`;
  /** A figure above its label. */
  const stat = (label, value, idName) =>
    h('div', { className: 'stat' }, h('b', { id: idName }, value), h('span', {}, label));
  /** What would make a run fit, as its estimate advises. */
  const adviceList = advice => h('ul', { className: 'advice' }, (advice || []).map(a => h('li', {}, a)));
  function toast(text) { const e = document.getElementById('toast'); e.textContent = text; e.hidden = false;
    clearTimeout(toast.timer); toast.timer = setTimeout(() => { e.hidden = true; }, 3500); }

  // ---- API ----------------------------------------------------------------------------------------------------------
  class ApiError extends Error {
    // An RFC 7807 problem, or OpenAI's error envelope from /v1.
    constructor(status, problem) {
      super((problem && (problem.detail || problem.title || (problem.error && problem.error.message)))
        || `HTTP ${status}`);
      this.status = status; this.problem = problem || {}; }
  }
  const auth = () => ({ Authorization: 'Bearer ' + state.key });
  async function api(method, path, body) {
    const init = { method, headers: auth() };
    if (body !== undefined) { init.headers['Content-Type'] = 'application/json'; init.body = JSON.stringify(body); }
    const response = await fetch(path, init);
    const text = await response.text();
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch { json = { title: text.slice(0, 200) }; }
    if (!response.ok) throw new ApiError(response.status, json);
    return json;
  }
  const get = path => api('GET', path);

  /** A refusal, said politely: what happened and what to do, never a raw response. */
  function problemBox(error) {
    const box = h('div', { className: 'problem', role: 'alert' });
    if (error.status === 403) {
      box.append(h('strong', {}, t('noPermission')),
        h('span', {}, `${t('yourRole')} ${state.me ? state.me.role : '?'}. ${t('askAdmin')}`));
      if (error.problem.detail) box.append(h('div', { className: 'muted' }, error.problem.detail));
    } else if (error.status === 401) {
      box.append(h('strong', {}, t('signedOutKey')));
    } else {
      box.append(h('strong', {}, error.problem.title || error.message));
      if (error.problem.detail
        && error.problem.detail !== error.problem.title) box.append(h('div', {}, error.problem.detail));
      for (const [field, messages] of Object.entries(error.problem.errors || {})) box.append(h('div', {},
        h('code', {}, field), ': ', [].concat(messages).join(' ')));
      // A run that would not fit comes with what would (422 with its estimate).
      const advice = error.problem.estimate && error.problem.estimate.advice;
      if (advice && advice.length) box.append(adviceList(advice));
    }
    box.dataset.status = String(error.status);
    return box;
  }
  function showProblem(container, error) { container.replaceChildren(problemBox(error)); }

  /** Reads Server-Sent Events from a fetch (EventSource cannot send the key). */
  async function readEvents(response, onEvent) {
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value.replace(/\r\n/g, '\n');
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let name = 'message', data = '';
        for (const line of block.split('\n')) {
          if (line.startsWith('event:')) name = line.slice(6).trim();
          else if (line.startsWith('data:')) data += line.slice(5).replace(/^ /, '');
        }
        if (data) onEvent(name, data);
      }
    }
  }

  /** Calls `load` every `ms` until it answers true, fails (shown in `problem`), or the view is left. */
  function follow(load, ms, problem) {
    const controller = new AbortController();
    state.stop = controller;
    (async () => {
      while (!controller.signal.aborted) {
        try { if (await load()) return; } catch (error) { showProblem(problem, error); return; }
        await new Promise(resolve => setTimeout(resolve, ms));
      }
    })();
  }

  async function allPages(path, limit) {
    const items = [];
    let cursor = null;
    do {
      const sep = path.includes('?') ? '&' : '?';
      const page =
        await get(`${path}${sep}limit=${limit || 200}${cursor ? '&cursor=' + encodeURIComponent(cursor) : ''}`);
      items.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor && items.length < 1000);
    return items;
  }

  // ---- sign-in and frame --------------------------------------------------------------------------------------------
  async function signIn(key) {
    state.key = key;
    state.me = await get('/api/keys/me');
    sessionStorage.setItem(KEY, key);
  }
  function signOut() { sessionStorage.removeItem(KEY); state.key = null; state.me = null;
    location.hash = '#/'; render(); }
  const mayEdit = () => state.me && (state.me.role === 'editor' || state.me.role === 'admin');
  const isAdmin = () => state.me && state.me.role === 'admin';

  function loginView() {
    const problem = h('div');
    const input =
      h('input', { id: 'login-key', 'aria-label': t('apiKey'), type: 'password', placeholder: 'plk_…',
        autocomplete: 'off', style: 'width:100%' });
    const form = h('form', { className: 'card login', onsubmit: async e => {
      e.preventDefault();
      try { await signIn(input.value.trim()); render(); } catch (error) { state.key = null;
        showProblem(problem, error); }
    } }, h('h1', {}, 'Platform'), h('p', { className: 'muted' }, t('apiKey')), input, h('p'),
      h('button', { id: 'login-submit', type: 'submit' }, t('signIn')), problem);
    return form;
  }

  function frame() {
    document.getElementById('top').hidden = !state.me;
    document.querySelectorAll('[data-admin]').forEach(e => { e.hidden = !isAdmin(); });
    document.getElementById('who').textContent = state.me ? `${state.me.name} (${state.me.role})` : '';
    document.querySelectorAll('[data-i18n]').forEach(e => { e.textContent = t(e.dataset.i18n); });
    document.getElementById('language').textContent = state.lang === 'en' ? '中文' : 'English';
    document.documentElement.lang = state.lang === 'en' ? 'en' : 'zh-CN';
    const section = (location.hash.split('/')[1] || '').split('?')[0];
    document.querySelectorAll('header nav a')
      .forEach(a => a.classList.toggle('active', a.getAttribute('href') === '#/' + section));
  }

  // ---- datasets -----------------------------------------------------------------------------------------------------
  async function datasetsView() {
    const progress = h('progress', { id: 'ds-progress', max: 1, value: 0, hidden: true });
    const result = h('div', { id: 'ds-result' });
    const file = h('input', { id: 'file', 'aria-label': t('dropHere'), type: 'file',
      accept: '.txt,.tsv,.jsonl,text/plain' });
    const drop = h('div', { id: 'drop' }, t('dropHere'), h('div', {}, file));
    const chosen = { file: null };
    file.addEventListener('change',
      () => { chosen.file = file.files[0];
      drop.firstChild.textContent = chosen.file ? chosen.file.name : t('dropHere'); });
    drop.addEventListener('dragover', e => { e.preventDefault(); drop.classList.add('over'); });
    drop.addEventListener('dragleave', () => drop.classList.remove('over'));
    drop.addEventListener('drop',
      e => { e.preventDefault(); drop.classList.remove('over'); chosen.file = e.dataTransfer.files[0];
      drop.firstChild.textContent = chosen.file ? chosen.file.name : t('dropHere'); });
    const name = h('input', { id: 'ds-name', placeholder: 'corpus' });
    // The kinds Tokenization trains, as it lists them (the first is the default); none while it does not answer, and
    // an upload then answers 400 naming tokenizer.kind.
    const tokenizerKinds = await get('/api/tokenizers/kinds').catch(() => []);
    const tokenizer = h('select', { id: 'ds-tokenizer' },
      tokenizerKinds.map(k => h('option', { value: k.name, title: k.description }, k.name)));
    // What the file holds; its extension suggests it (a .tsv holds pairs, a .jsonl conversations or pairs).
    const format = h('select', { id: 'ds-format' },
      [['text', 'formatText'], ['pairs', 'formatPairs'], ['chat', 'formatChat']]
        .map(([value, label]) => h('option', { value }, t(label))));
    file.addEventListener('change', () => {
      if (/\.tsv$/i.test(file.files[0] ? file.files[0].name : '')) format.value = 'pairs';
      else if (/\.jsonl$/i.test(file.files[0] ? file.files[0].name : '')) format.value = 'chat';
    });
    const kinds = ['email', 'phone', 'ip', 'creditCard', 'cnId'];
    const redactions = kinds.map(k => h('input', { type: 'checkbox', name: 'redact', value: k }));
    const autoTrain = h('input', { id: 'ds-autotrain', type: 'checkbox' });
    const steps = h('input', { id: 'ds-steps', type: 'number', value: 500, min: 1, style: 'width:6rem' });
    const button = h('button', { id: 'ds-upload', type: 'button', onclick: () => {
      if (!chosen.file) { toast(t('dropHere')); return; }
      const form = new FormData();
      const datasetName = name.value.trim() || chosen.file.name.replace(/\.[^.]+$/, '');
      form.append('name', datasetName);
      form.append('tokenizer', tokenizer.value);
      form.append('format', format.value);
      // A small model of the family the format trains: an encoder-decoder for pairs, a GPT (a longer block for
      // conversations) otherwise.
      const model = format.value === 'pairs'
        ? { architecture: 'encoder-decoder', nEncoderLayer: 2, nDecoderLayer: 2, nHead: 2, nEmbd: 64,
          maxSourceLength: 64, maxTargetLength: 64, dropout: 0 }
        : { nLayer: 2, nHead: 2, nEmbd: 64, blockSize: format.value === 'chat' ? 128 : 64, dropout: 0 };
      if (autoTrain.checked)
        form.append('autoTrain',
        JSON.stringify({ name: datasetName.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 64) || 'model', model,
          training: { maxSteps: +steps.value, batchSize: 16, learningRate: 0.003, warmupSteps: 20,
            evalInterval: Math.max(1, Math.floor(+steps.value / 5)), evalIters: 5 } }));
      form.append('file', chosen.file);
      const redact = redactions.filter(r => r.checked).map(r => r.value);
      const xhr = new XMLHttpRequest();
      xhr.open('POST', '/api/datasets' + (redact.length ? '?redact=' + redact.join(',') : ''));
      xhr.setRequestHeader('Authorization', 'Bearer ' + state.key);
      progress.hidden = false; progress.value = 0; button.disabled = true; result.replaceChildren();
      xhr.upload.onprogress = e => { if (e.lengthComputable) progress.value = e.loaded / e.total; };
      xhr.onload = () => {
        button.disabled = false;
        let body = null;
        try { body = JSON.parse(xhr.responseText); } catch { body = { title: xhr.responseText.slice(0, 200) }; }
        if (xhr.status >= 300) { progress.hidden = true; showProblem(result, new ApiError(xhr.status, body)); return; }
        progress.value = 1;
        result.replaceChildren(h('div', { className: 'card' },
        `${body.name}: ${body.state}, ${fmt(body.characters)} characters`,
          body.autoTrainRunId
            ? h('div', {},
            h('a', { id: 'ds-run-link', href: `#/runs/${body.autoTrainRunId}` }, t('watchRun'))) : null));
        refresh();
      };
      xhr.onerror = () =>
        { button.disabled = false;
        showProblem(result, new ApiError(0, { title: t('uploadLost') })); };
      xhr.send(form);
    } }, t('upload'));
    const table = h('div', { id: 'datasets-table' }, t('loading'));
    async function refresh() {
      try {
        const items = (await get('/api/datasets?limit=100')).items;
        table.replaceChildren(items.length === 0 ? h('p', { className: 'muted' }, t('none')) : h('table', {},
          h('tr', {}, [t('name'), t('state'), t('format'), t('characters'), t('tokenizer'), t('vocabulary'),
            t('trainTokens'), t('redacted'), t('owner'), t('shared'), t('created')].map(c => h('th', {}, c))),
          items.map(d => h('tr', { dataset: { id: d.id } },
            h('td', {}, d.name), h('td', { className: 'state-' + d.state }, d.state),
            h('td', { className: 'format' }, d.format + (d.chat ? ` (${fmt(d.chat.conversations)})`
              : d.pairs ? ` (${fmt(d.pairs.pairs)})` : '')),
            h('td', {}, fmt(d.characters)),
            h('td', {}, d.tokenizer ? d.tokenizer.kind : '—'), h('td', {}, fmt(d.tokenizer && d.tokenizer.vocabSize)),
            h('td', {}, fmt(d.trainTokens)),
            h('td', {},
            d.redaction ? Object.entries(d.redaction.replaced || {}).map(([k, v]) => `${k} ${v}`).join(', ')
            || (d.redaction.kinds || []).join(', ') : '—'),
            h('td', {}, d.owner ? d.owner.name : '—'), h('td', { className: 'sharing' }, sharing(d)),
            h('td', {}, when(d.createdAt))))));
      } catch (error) { showProblem(table, error); }
    }
    // Who else may read the dataset and what is learned from it; its owner (or an admin) opens or closes it to every
    // key here (named keys: the API or the CLI).
    function sharing(d) {
      const shared = d.sharing || { everyone: false, readers: [] };
      const text = shared.everyone ? t('everyone')
        : shared.readers.length ? `${shared.readers.length} ${t('keys')}` : t('onlyOwner');
      const mayShare = isAdmin() || (mayEdit() && d.owner && state.me && d.owner.id === state.me.id);
      if (!mayShare) return text;
      const toggle = h('button', { type: 'button', className: 'share', onclick: async () => {
        toggle.disabled = true;
        try {
          await api('PUT', `/api/datasets/${d.id}/sharing`, { everyone: !shared.everyone, readers: shared.readers });
          refresh();
        } catch (error) { toggle.disabled = false; showProblem(result, error); }
      } }, shared.everyone ? t('makePrivate') : t('shareEveryone'));
      return [text + ' ', toggle];
    }
    refresh();
    return h('div', {}, h('h1', {}, t('datasets')),
      h('div', { className: 'card' }, drop, h('p'),
        h('div', { className: 'row' }, h('label', {}, t('name'), name), h('label', {}, t('tokenizer'), tokenizer),
          h('label', {}, t('format'), format)),
        h('p', {}, h('span', { className: 'muted' }, t('redact') + ': '),
        kinds.map((k, i) => h('label', {}, redactions[i], t('redact-' + k)))),
        h('p', {}, h('label', {}, autoTrain, t('autoTrain')), h('label', {}, steps, t('steps'))),
        button, h('p'), progress, result),
      table);
  }

  // ---- runs ---------------------------------------------------------------------------------------------------------
  async function runsView(query) {
    const stateFilter =
      h('select', { id: 'f-state', 'aria-label': t('state') },
      ['', 'Queued', 'WaitingForData', 'Training', 'Evaluating', 'Completed', 'Failed', 'Cancelled']
      .map(s => h('option', { value: s, selected: s === (query.get('state') || '') }, s || t('anyState'))));
    const nameFilter = h('input', { id: 'f-name', 'aria-label': t('name'), placeholder: 'name',
      value: query.get('name') || '' });
    const tagFilter = h('input', { id: 'f-tag', 'aria-label': t('tag'), placeholder: 'tag',
      value: query.get('tag') || '' });
    // MLflow's search syntax over metrics, parameters, tags and attributes (docs/tracking.md); it replaces the
    // other filters while it is set.
    const searchFilter = h('input', { id: 'f-search', 'aria-label': t('search'), className: 'wide',
      placeholder: 'metrics.val_loss < 1.9 and tags.team = "nlp"', value: query.get('filter') || '' });
    const apply = () =>
      { const q = new URLSearchParams(); if (stateFilter.value) q.set('state', stateFilter.value);
      if (nameFilter.value) q.set('name', nameFilter.value); if (tagFilter.value) q.set('tag', tagFilter.value);
      if (searchFilter.value.trim()) q.set('filter', searchFilter.value.trim());
      location.hash = '#/runs?' + q; };
    [stateFilter, nameFilter, tagFilter, searchFilter].forEach(e => e.addEventListener('change', apply));
    const table = h('div', { id: 'runs-table' }, t('loading'));
    const compare = h('button', { id: 'compare', type: 'button', onclick: () => {
      const ids = [...table.querySelectorAll('input.pick:checked')].map(c => c.value);
      if (ids.length < 2) { toast(t('pickTwo')); return; }
      location.hash = '#/compare?ids=' + ids.join(',');
    } }, t('compare'));
    try {
      const q = new URLSearchParams(query); q.set('limit', '100');
      const runs = (await get((query.get('filter') ? '/api/runs/search?' : '/api/runs?') + q)).items;
      table.replaceChildren(runs.length === 0 ? h('p', { className: 'muted' }, t('none')) : h('table', {},
        h('tr', {},
        ['', t('name'), t('state'), t('progress'), t('bestValLoss'), t('tags'), t('owner'), t('created')]
          .map(c => h('th', {}, c))),
        runs.map(r => h('tr', {},
          h('td', {}, h('input', { type: 'checkbox', className: 'pick', value: r.id,
            'aria-label': `${t('select')} ${r.name} ${r.id.slice(0, 8)}` })),
          h('td', {}, h('a', { href: `#/runs/${r.id}` }, r.name)),
          h('td', { className: 'state-' + r.state }, r.state),
          h('td', {}, `${fmt(r.step)} / ${fmt(r.maxSteps)}`),
          h('td', {}, fmt(r.bestValidationLoss)),
          h('td', {}, (r.tags || []).map(tag => h('span', { className: 'badge' }, tag))),
          h('td', {}, r.owner ? r.owner.name : '—'), h('td', {}, when(r.createdAt))))));
    } catch (error) { showProblem(table, error); }
    const form = mayEdit() ? await runForm(run => { location.hash = `#/runs/${run.id}`; }) : null;
    return h('div', {}, h('h1', {}, t('runs')), form,
      h('div', { className: 'row' }, stateFilter, nameFilter, tagFilter, compare),
      h('div', { className: 'row' }, h('label', {}, t('search'), searchFilter)), h('p'), table);
  }

  // The model fields of one architecture: a GPT's spec also carries the encoder-decoder's defaults, and back.
  const ENCODER_DECODER_ONLY = ['nEncoderLayer', 'nDecoderLayer', 'maxSourceLength', 'maxTargetLength',
    'sharedEmbeddings'];
  const GPT_ONLY = ['nLayer', 'blockSize'];
  const appliesTo = (architecture, field) => architecture === 'encoder-decoder' ? !GPT_ONLY.includes(field)
    : !ENCODER_DECODER_ONLY.includes(field);

  /** A run from a form: estimated first (parameters, memory against the worker's, time), then started. */
  async function runForm(onStarted) {
    const datasets = await allPages('/api/datasets').catch(() => []);
    const num = (id, value, attrs) => h('input', Object.assign({ id, type: 'number', value, style: 'width:6rem' },
      attrs || {}));
    const field = (label, input) => h('label', {}, label, input);
    const dataset = datasetPicker('rf-dataset', datasets);
    const name = h('input', { id: 'rf-name', placeholder: 'my-model', style: 'width:10rem' });
    const layers = num('rf-layers', 2, { min: 1 }), heads = num('rf-heads', 2, { min: 1 });
    const width = num('rf-width', 64, { min: 8, step: 8 }), block = num('rf-block', 64, { min: 2 });
    const unit = h('select', { id: 'rf-unit' }, h('option', { value: 'steps' }, t('steps')),
      h('option', { value: 'epochs' }, t('epochs')));
    const length = num('rf-length', 500, { min: 1 }), batch = num('rf-batch', 16, { min: 1 });
    const rate = num('rf-lr', 0.003, { min: 0, step: 'any' });
    const out = h('div', { id: 'rf-result' });
    const spec = () => {
      const pairs = (dataset.selectedOptions[0] || {}).dataset?.format === 'pairs';
      const model = pairs
        ? { architecture: 'encoder-decoder', nEncoderLayer: +layers.value, nDecoderLayer: +layers.value,
          nHead: +heads.value, nEmbd: +width.value, maxSourceLength: +block.value, maxTargetLength: +block.value }
        : { nLayer: +layers.value, nHead: +heads.value, nEmbd: +width.value, blockSize: +block.value };
      const training = { batchSize: +batch.value, learningRate: +rate.value };
      training[unit.value === 'epochs' ? 'epochs' : 'maxSteps'] = +length.value;
      return { datasetId: dataset.value, name: name.value.trim(), model, training };
    };
    const estimate = h('button', { id: 'rf-estimate', type: 'button', className: 'secondary', onclick: async () => {
      try {
        const e = await api('POST', '/api/runs/estimate', spec());
        const gib = b => `${(b / 2 ** 30).toFixed(2)} GiB`;
        out.replaceChildren(h('div', { className: 'grid', id: 'rf-figures' },
          [[t('parameters'), fmt(e.parameters)], [t('tokens'), fmt(e.tokens)],
            [t('memory'), `${gib(e.memory.peakBytes)} / ${gib(e.memory.limitBytes)}`],
            [t('time'), duration(e.estimatedSeconds)], [t('fits'), e.fits ? '✓' : '✗']]
            .map(([label, value]) => stat(label, value))),
          e.fits ? null : adviceList(e.advice));
      } catch (error) { showProblem(out, error); }
    } }, t('estimate'));
    const start = h('button', { id: 'rf-start', type: 'button', onclick: async () => {
      try { const run = await api('POST', '/api/runs', spec()); onStarted(run); }
      catch (error) { showProblem(out, error); }
    } }, t('startRun'));
    return h('details', { className: 'card', id: 'run-form' }, h('summary', {}, t('newRun')),
      h('div', { className: 'row' }, field(t('dataset'), dataset), field(t('name'), name)),
      h('div', { className: 'row' }, field(t('layers'), layers), field(t('heads'), heads), field(t('width'), width),
        field(t('block'), block)),
      h('div', { className: 'row' }, field(t('length'), length), field(t('unit'), unit), field(t('batch'), batch),
        field(t('learningRate'), rate)),
      h('p', {}, estimate, ' ', start), out);
  }

  async function runView(id) {
    const header = h('div', { className: 'grid', id: 'run-stats' });
    const title = h('h1', {}, t('loading'));
    const problem = h('div', { id: 'run-problem' });
    const lossChart = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
    lossChart.id = 'loss-chart';
    const lrChart = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
    lrChart.id = 'lr-chart';
    const lossLegend = h('div'), params = h('div'), files = h('div'), actions = h('div', { className: 'row' });
    const otherChart = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
    otherChart.id = 'metric-chart';
    // Every series the run recorded (grad_norm, tokens_per_sec, epoch, …) can be charted; loss is smoothed on request.
    const metric = h('select', { id: 'metric-key', 'aria-label': t('metric') });
    const smoothing = h('input', { id: 'smoothing', type: 'range', min: 0, max: 0.99, step: 0.01, value: 0,
      'aria-label': t('smoothing') });
    const series = { loss: new Map(), val_loss: new Map(), lr: new Map() };
    let run = null;
    const sorted = key => [...(series[key] || new Map())].sort((a, b) => a[0] - b[0]);
    const draw = () => {
      const loss = [{ name: 'loss', points: sorted('loss') }, { name: 'val_loss', points: sorted('val_loss'),
        dashed: true }];
      Charts.lineChart(lossChart, loss, { smoothing: +smoothing.value });
      Charts.legend(lossLegend, loss);
      Charts.lineChart(lrChart, [{ name: 'lr', points: sorted('lr'), color: '#2f9e44' }],
        { height: 160, format: v => v.toExponential(1) });
      if (metric.value) Charts.lineChart(otherChart, [{ name: metric.value, points: sorted(metric.value),
        color: '#ae3ec9' }], { height: 160, smoothing: +smoothing.value });
    };
    smoothing.addEventListener('input', draw);
    metric.addEventListener('change', async () => {
      if (!series[metric.value]) {
        series[metric.value] = new Map();
        const m = await get(`/api/runs/${id}/metrics?keys=${encodeURIComponent(metric.value)}&maxPoints=2000`);
        for (const s of m.series) for (const p of s.points) series[s.key].set(p.step, p.value);
      }
      draw();
    });
    const show = r => {
      run = r;
      title.replaceChildren(...[`${r.name} `, h('span', { id: 'run-state', className: 'state-' + r.state }, r.state),
        r.external ? h('span', { id: 'run-external', className: 'muted' }, ' · ' + t('external')) : null]
        .filter(Boolean));
      header.replaceChildren(...[
        stat(t('step'), `${fmt(r.step)} / ${fmt(r.maxSteps)}`, 'run-step'),
        r.epoch ? stat(t('epoch'), `${r.epoch} / ${r.training.epochs}`, 'run-epoch') : null,
        stat(t('loss'), fmt(r.latestTrainLoss)),
        stat(t('valLoss'), fmt(r.latestValidationLoss)),
        stat(t('tokensPerSecond'), fmt(r.tokensPerSecond && Math.round(r.tokensPerSecond))),
        stat(t('eta'), duration(r.etaSeconds)),
        stat(t('parameters'), fmt(r.parameters)), stat(t('cost'), r.cost ? `${r.cost.price} ${r.cost.currency}` : '—'),
          stat(t('version'), r.modelVersion ? `v${r.modelVersion}` : '—')].filter(Boolean));
      // What the run trains in ("auto" picks one on the worker's machine) and why, above what the spec asked for.
      const precision = r.precision ? [h('tr', {}, h('td', {}, 'precision'),
        h('td', { id: 'run-precision' }, `${r.precision}: ${r.precisionReason || ''}`))] : [];
      // A script's run shows what its script logged; the platform's, its spec.
      const entries = r.external ? Object.entries(r.params || {}) : Object.entries(Object.assign({},
        ...['model', 'training']
        .map(k => Object.fromEntries(Object.entries(r[k] || {})
        .filter(([p, v]) => v !== null && (k !== 'model' || appliesTo(r.model.architecture, p)))
        .map(([p, v]) => [`${k}.${p}`, v])))));
      params.replaceChildren(...[h('table', { id: 'run-params' },
        h('tr', {}, h('th', {}, t('parameter')), h('th', {}, t('value'))), precision,
        entries.map(([p, v]) =>
          h('tr', {}, h('td', {}, p), h('td', {}, typeof v === 'object' ? JSON.stringify(v) : String(v))))),
        (r.tags || []).length ? h('p', { id: 'run-tags' }, `${t('tags')}: ${r.tags.join(', ')}`) : null]
        .filter(Boolean));
      if (r.external) get(`/api/runs/${id}/artifacts`).then(list => files.replaceChildren(h('h2', {}, t('files')),
        list.length === 0 ? h('p', { className: 'muted' }, t('none'))
        : h('table', { id: 'run-files' }, h('tr', {}, [t('path'), t('size'), 'sha256'].map(c => h('th', {}, c))),
          list.map(f => h('tr', {}, h('td', {}, f.path), h('td', {}, fmt(f.bytes)),
            h('td', {}, f.sha256.slice(0, 12)))))), error => showProblem(problem, error));
      actions.replaceChildren();
      if (mayEdit() && ['Queued', 'WaitingForData', 'Training']
        .includes(r.state)) actions.append(h('button',
        { id: 'cancel', className: 'danger', onclick: () => act('cancel') }, t('cancel')));
      if (mayEdit() && !r.external && ['Failed', 'Cancelled']
        .includes(r.state)) actions.append(h('button', { id: 'resume', onclick: () => act('resume') }, t('resume')));
    };
    async function act(what) {
      try { show(await api('POST', `/api/runs/${id}/${what}`, {})); toast(`${what}: ${run.state}`); watch();
        } catch (error) { showProblem(problem, error); }
    }
    async function loadSeries() {
      const metrics = await get(`/api/runs/${id}/metrics?maxPoints=2000`);
      const chosen = metric.value;
      metric.replaceChildren(...metrics.series.map(s => s.key).filter(k => !['loss', 'val_loss', 'lr'].includes(k))
        .map(k => h('option', { value: k, selected: k === chosen }, k)));
      for (const s of metrics.series) {
        series[s.key] = series[s.key] || new Map();
        for (const p of s.points) series[s.key].set(p.step, p.value);
      }
      draw();
    }
    async function watch() {
      if (state.stop) state.stop.abort();
      const controller = new AbortController();
      state.stop = controller;
      try {
        const response = await fetch(`/api/runs/${id}/events`, { headers: auth(), signal: controller.signal });
        if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => null));
        await readEvents(response, (name, data) => {
          const payload = JSON.parse(data);
          if (name === 'run') show(payload);
          else if (name === 'progress') {
            for (const p of payload.points || []) if (series[p.key]) series[p.key].set(p.step, p.value);
            draw();
            const step = document.getElementById('run-step');
            if (step) step.textContent = `${fmt(payload.step)} / ${fmt(payload.maxSteps)}`;
            const epoch = document.getElementById('run-epoch');
            if (epoch && payload.epoch) epoch.textContent = `${payload.epoch} / ${payload.epochs}`;
          }
        });
        // the final evaluation's points, and any the stream missed
        if (!controller.signal.aborted) await loadSeries();
      } catch (error) { if (!controller.signal.aborted) showProblem(problem, error); }
    }
    try {
      // A run an upload asked for is created when its dataset's message arrives: wait for it a little.
      for (let attempt = 0; ; attempt++) {
        try { show(await get(`/api/runs/${id}`)); break; } catch (error) {
          if (error.status !== 404 || attempt >= 30) throw error;
          title.textContent = t('waitingForRun');
          await new Promise(resolve => setTimeout(resolve, 1000));
        }
      }
      problem.replaceChildren();
      await loadSeries();
      watch();
    } catch (error) { showProblem(problem, error); }
    return h('div', {}, title, problem, header, h('p'), actions, h('h2', {}, t('loss')),
      h('div', { className: 'row' }, lossLegend, h('label', {}, t('smoothing'), smoothing)), lossChart,
      h('h2', {}, t('learningRate')), lrChart,
      h('h2', {}, t('otherMetrics')), h('label', {}, t('metric'), metric), otherChart,
      h('h2', {}, t('parameters')), params, files);
  }

  async function compareView(query) {
    const ids = (query.get('ids') || '').split(',').filter(Boolean);
    const container = h('div', {}, t('loading'));
    try {
      const comparison = await get(`/api/runs/compare?ids=${ids.join(',')}&keys=loss,val_loss`);
      const chart = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
      chart.id = 'cmp-chart';
      const lines = [];
      comparison.runs.forEach((r, i) => {
        for (const m of comparison.metrics) {
          const values = m.values[i];
          lines.push({ name: `${r.name} ${m.key}`, color: Charts.palette[i % Charts.palette.length],
          dashed: m.key === 'val_loss',
            points: m.steps.map((s, j) => [s, values[j]]).filter(p => p[1] !== null) });
        }
      });
      const legend = h('div');
      Charts.lineChart(chart, lines, { width: 760, height: 300 });
      Charts.legend(legend, lines);
      container.replaceChildren(legend, chart, h('h2', {}, t('parameters')), h('table', { id: 'cmp-params' },
        h('tr', {}, h('th', {}, t('parameter')), comparison.runs.map(r => h('th', {}, r.name))),
        comparison.parameters.map(p => h('tr', { className: p.differs ? 'differs' : '' }, h('td', {}, p.parameter),
          p.values.map(v =>
            h('td', {},
            v === null || v === undefined ? '—' : typeof v === 'object' ? JSON.stringify(v) : String(v)))))));
    } catch (error) { showProblem(container, error); }
    return h('div', {}, h('h1', {}, t('compare')), container);
  }

  // ---- models -------------------------------------------------------------------------------------------------------
  async function modelsView() {
    const list = h('div', {}, t('loading'));
    try {
      const models = await allPages('/api/models');
      list.replaceChildren(models.length === 0 ? h('p', { className: 'muted' }, t('none'))
      : h('table', { id: 'models-table' },
        h('tr', {}, [t('name'), t('latest'), t('versions'), t('updated')].map(c => h('th', {}, c))),
        models.map(m =>
        h('tr', {}, h('td', {}, h('a', { href: `#/models/${encodeURIComponent(m.name)}` }, m.name)),
        h('td', {}, `v${m.latestVersion}`),
          h('td', {}, fmt(m.versions)), h('td', {}, when(m.updatedAt))))));
    } catch (error) { showProblem(list, error); }
    return h('div', {}, h('h1', {}, t('models')), list);
  }

  async function modelView(name) {
    const container = h('div', {}, t('loading'));
    const problem = h('div', { id: 'alias-problem' });
    async function load() {
      try {
        const model = await get(`/api/models/${encodeURIComponent(name)}`);
        const book = await get(`/api/models/${encodeURIComponent(name)}/aliases`);
        const aliasName = h('input', { id: 'alias-name', value: 'production', style: 'width:9rem' });
        const aliasVersion =
          h('select', { id: 'alias-version' },
          model.versions.map(v => h('option', { value: v.version }, `v${v.version}`)));
        const move = h('button', { id: 'alias-move', type: 'button', onclick: async () => {
          try {
            await api('PUT',
              `/api/models/${encodeURIComponent(name)}/aliases/${encodeURIComponent(aliasName.value.trim())}`,
              { version: +aliasVersion.value });
            toast(`${name}@${aliasName.value} → v${aliasVersion.value}`);
            problem.replaceChildren();
            load();
          } catch (error) { showProblem(problem, error); }
        } }, t('moveAlias'));
        const figure = (v, k, d) => fmt(v.evaluation ? v.evaluation[k] : null, d);
        // Every figure of the evaluation's document, whichever metrics it holds, on the row's tooltip.
        const allFigures = v => Object.entries(v.evaluation || {})
          .map(([k, x]) => `${k}: ${typeof x === 'number' ? fmt(x, 4) : x}`).join('\n');
        container.replaceChildren(
          h('p', {}, Object.entries(model.aliases || {})
          .map(([a, v]) =>
          h('span', { className: 'badge alias-badge', dataset: { alias: a, version: v } }, `@${a} → v${v}`))),
          isAdmin() || mayEdit()
          ? h('div', { className: 'card row' }, h('label', {}, t('alias'), aliasName),
          h('label', {}, t('version'), aliasVersion), move) : null,
          problem,
          h('table', { id: 'versions-table' },
            h('tr', {},
            [t('version'), t('aliases'), t('evalLoss'), t('top1'), t('top5'), t('macroRecall'), t('valLoss'),
            t('architecture'), t('base'), t('created'), ''].map(c => h('th', {}, c))),
            model.versions.map(v => h('tr', { title: allFigures(v) },
              h('td', {}, `v${v.version}`),
              h('td', {}, (v.aliases || []).map(a => h('span', { className: 'badge' }, '@' + a))),
              h('td', {}, figure(v, 'loss')), h('td', {}, figure(v, 'top1Accuracy', 3)),
              h('td', {}, figure(v, 'top5Accuracy', 3)), h('td', {}, figure(v, 'macroRecall', 3)),
              h('td', {}, fmt(v.validationLoss)), h('td', {}, v.architecture), h('td', {}, v.baseModel || '—'),
              h('td', {}, when(v.createdAt)),
              h('td', {},
              h('button', { className: 'secondary', type: 'button', onclick: () => download(v.version) },
              t('download')))))),
          h('h2', {}, t('aliasHistory')),
          book.history.length === 0 ? h('p', { className: 'muted' }, t('none'))
          : h('table', {}, h('tr', {}, [t('when'), t('alias'), t('from'), t('to'), t('by')].map(c => h('th', {}, c))),
            book.history.map(m =>
            h('tr', {}, h('td', {}, when(m.at)), h('td', {}, '@' + m.alias),
            h('td', {}, m.fromVersion ? `v${m.fromVersion}` : '—'),
              h('td', {}, m.toVersion ? `v${m.toVersion}` : 'removed'), h('td', {}, m.by)))));
      } catch (error) { showProblem(container, error); }
    }
    // What a download exports: the platform's safetensors, GGUF for llama.cpp, or a Hugging Face model folder (a
    // refusal says why a model cannot).
    const exportFormat = h('select', { id: 'export-format', 'aria-label': t('exportFormat') },
      [['safetensors', 'safetensors'], ['gguf&type=f32', 'GGUF f32'], ['gguf&type=f16', 'GGUF f16'],
        ['gguf&type=q8_0', 'GGUF Q8_0'], ['hf', 'Hugging Face (zip)']]
        .map(([value, label]) => h('option', { value }, label)));
    async function download(version) {
      try {
        const format = exportFormat.value;
        const response = await fetch(`/api/models/${encodeURIComponent(name)}/versions/${version}/weights` +
          `?format=${format}`, { headers: auth() });
        if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => null));
        const url = URL.createObjectURL(await response.blob());
        const file = format === 'safetensors' ? `${name}-v${version}.safetensors`
          : format === 'hf' ? `${name}-v${version}-hf.zip`
          : `${name}-v${version}-${format.split('=')[1]}.gguf`;
        h('a', { href: url, download: file }).click();
        setTimeout(() => URL.revokeObjectURL(url), 10000);
      } catch (error) { showProblem(problem, error); }
    }
    load();
    return h('div', {}, h('h1', {}, name), h('label', {}, t('exportFormat'), exportFormat), container);
  }

  // ---- playground and attention -------------------------------------------------------------------------------------
  /** The tokenized datasets, to train or evaluate on; each option carries the dataset's format. */
  const datasetPicker = (id, datasets) => h('select', { id }, datasets.filter(d => d.state === 'Tokenized')
    .map(d => h('option', { value: d.id, dataset: { format: d.format } }, `${d.name} (${d.format})`)));

  async function modelPicker(id) {
    const select = h('select', { id });
    try {
      const models = (await get('/v1/models')).data.map(m => m.id);
      const names = models.filter(m => !m.includes('/versions/'));
      select.append(...names.concat(models.filter(m => m.includes('/versions/')))
        .map(m => h('option', { value: m }, m)));
    } catch (error) { select.append(h('option', { value: '' }, error.message)); }
    return select;
  }

  /** Colour of a probability: red (unlikely) through amber to green (likely). */
  const shade = p => `hsl(${Math.round(120 * p)}, 70%, ${88 - 18 * p}%)`;

  /**
   * Explains as much of a completion as fits the model's window: the prompt is cut from the left and, if the completion
   * alone is too long, the completion from the right, using the sizes a 413 reports (approximate for subword tokens).
   */
  async function explainWindow(model, prompt, text) {
    let context = prompt, target = text;
    for (let attempt = 0; ; attempt++) {
      try { return { explained: await api('POST', '/api/explain', { model, prompt: context, target }), target };
        } catch (error) {
        const p = error.problem;
        if (error.status !== 413 || !p.maxPositions || attempt >= 4) throw error;
        const window = p.maxPositions, contextRoom = Math.min(p.promptTokens, Math.ceil(window / 4));
        const targetRoom = Math.max(1, window - contextRoom - attempt);
        if (p.targetTokens > targetRoom) target =
          target.slice(0, Math.max(1, Math.floor(target.length * targetRoom / p.targetTokens)));
        const promptRoom = Math.max(1, window - Math.min(p.targetTokens, targetRoom) - attempt);
        if (p.promptTokens > promptRoom) context =
          context.slice(context.length - Math.max(1, Math.floor(context.length * promptRoom / p.promptTokens)));
      }
    }
  }

  async function playgroundView() {
    const model = await modelPicker('pg-model');
    const prompt = h('textarea', { id: 'pg-prompt', 'aria-label': t('prompt'), placeholder: 'ROMEO:' });
    const maxTokens = h('input', { id: 'pg-max', type: 'number', value: 80, min: 1, max: 1000, style: 'width:5rem' });
    const temperature =
      h('input', { id: 'pg-temperature', type: 'number', value: 0.8, step: 0.1, min: 0, max: 2, style: 'width:5rem' });
    const topK = h('input', { id: 'pg-topk', type: 'number', value: 40, min: 0, style: 'width:5rem' });
    const topP =
      h('input', { id: 'pg-topp', type: 'number', value: 1, step: 0.05, min: 0, max: 1, style: 'width:5rem' });
    const seed = h('input', { id: 'pg-seed', type: 'number', placeholder: 'random', style: 'width:7rem' });
    const output = h('div', { id: 'pg-output', className: 'tokens' });
    const alternatives = h('div', { id: 'pg-alternatives', className: 'alternatives' });
    const problem = h('div', { id: 'pg-problem' });
    const generate = h('button', { id: 'pg-generate', type: 'button', onclick: async () => {
      generate.disabled = true; problem.replaceChildren(); alternatives.replaceChildren();
      const completion = h('span', { id: 'pg-completion' });
      output.replaceChildren(h('span', { className: 'prompt' }, prompt.value), completion);
      output.dataset.done = 'false';
      let text = '';
      try {
        const body =
          { model: model.value, prompt: prompt.value, max_tokens: +maxTokens.value, temperature: +temperature.value,
          top_k: +topK.value, top_p: +topP.value, stream: true };
        if (seed.value !== '') body.seed = +seed.value;
        const response =
          await fetch('/v1/completions',
          { method: 'POST', headers: Object.assign({ 'Content-Type': 'application/json' }, auth()),
          body: JSON.stringify(body) });
        if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => null));
        await readEvents(response, (name, data) => {
          if (data === '[DONE]') return;
          const chunk = JSON.parse(data);
          text += chunk.choices[0].text;
          completion.textContent = text;
          output.dataset.chunks = String(+(output.dataset.chunks || 0) + 1);
        });
        // Each generated token coloured by the model's probability of it, with its likeliest alternatives on click.
        output.dataset.text = text;
        if (text.length > 0) {
          const { explained, target } = await explainWindow(model.value, prompt.value, text);
          const rest = text.slice(target.length);
          // Predictions cover every position after the first; the completion's tokens are those after the prompt.
          completion.replaceChildren(...explained.predictions.filter(p =>
            p.position >= explained.promptTokens).map(p => {
            const probability = Math.exp(p.logprob);
            const showAlternatives = () => alternatives.replaceChildren(
              h('strong', {}, `${t('alternatives')} “${p.text}”`),
              h('table', {}, p.top.map(a => h('tr', {}, h('td', {}, JSON.stringify(a.text)),
                h('td', {}, Math.exp(a.logprob).toFixed(3))))));
            // A button to the keyboard and to screen readers: Enter or Space shows its alternatives.
            return h('span',
            { className: 'token', title: `p = ${probability.toFixed(3)}`, style: `background:${shade(probability)}`,
              dataset: { prob: probability.toFixed(4) }, tabIndex: 0, role: 'button',
              'aria-label': `${JSON.stringify(p.text)}, p = ${probability.toFixed(3)}`,
              onclick: showAlternatives,
              onkeydown: e => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); showAlternatives(); } } },
            p.text);
          }), rest ? h('span',
            { className: 'muted', title: t('beyondWindow') }, rest) : '');
        }
      } catch (error) { showProblem(problem, error); }
      output.dataset.done = 'true';
      generate.disabled = false;
    } }, t('generate'));
    return h('div', {}, h('h1', {}, t('playground')),
      h('div', { className: 'card' }, h('div', { className: 'row' }, h('label', {}, t('model'), model)), h('p'),
      prompt, h('p'),
        h('div', { className: 'row' }, h('label', {}, t('maxTokens'), maxTokens),
        h('label', {}, t('temperature'), temperature), h('label', {}, 'top-k', topK),
          h('label', {}, 'top-p', topP), h('label', {}, t('seed'), seed), generate)),
      problem, output, alternatives);
  }

  /** The version a model id names ("name", "name/versions/N" or "name@alias"), as the registry describes it. */
  async function versionOf(id) {
    const [name, rest] = id.split(/\/versions\/|@/);
    if (/\/versions\//.test(id)) return get(`/api/models/${encodeURIComponent(name)}/versions/${rest}`);
    const model = await get(`/api/models/${encodeURIComponent(name)}`);
    const number = rest === undefined ? model.latestVersion : model.aliases[rest];
    return model.versions.find(v => v.version === number);
  }

  async function chatView() {
    const model = await modelPicker('chat-model');
    const system = h('input', { id: 'chat-system', type: 'text', style: 'width:100%' });
    const transcript = h('div', { id: 'chat-transcript', className: 'chat', 'aria-live': 'polite' });
    const input = h('textarea', { id: 'chat-input', placeholder: '4 July 2031' });
    const schema = h('textarea', { id: 'chat-schema', placeholder: '{"type":"object","properties":{…}}' });
    const template = h('pre', { id: 'chat-template', className: 'muted' });
    const problem = h('div', { id: 'chat-problem' });
    const messages = [];
    const showTemplate = async () => {
      try {
        const version = model.value ? await versionOf(model.value) : null;
        template.textContent = version && version.chatTemplate ? version.chatTemplate : t('noTemplate');
      } catch (error) { template.textContent = error.message; }
    };
    model.addEventListener('change', () => { messages.length = 0; transcript.replaceChildren(); showTemplate(); });
    showTemplate();
    const send = h('button', { id: 'chat-send', type: 'button', onclick: async () => {
      const text = input.value.trim();
      if (!text) return;
      problem.replaceChildren();
      let format;
      if (schema.value.trim()) {
        try { format = { type: 'json_schema', json_schema: { name: 'schema', schema: JSON.parse(schema.value) } }; }
        catch (error) {
          showProblem(problem, new ApiError(400, { title: t('badSchema'), detail: error.message }));
          return;
        }
      }
      send.disabled = true;
      messages.push({ role: 'user', content: text });
      const reply = h('div', { className: 'message assistant' });
      transcript.append(h('div', { className: 'message user' }, text), reply);
      input.value = '';
      transcript.dataset.done = 'false';
      try {
        const body = { model: model.value, stream: true, max_completion_tokens: 200,
          messages: (system.value ? [{ role: 'system', content: system.value }] : []).concat(messages) };
        if (format) body.response_format = format;
        const response = await fetch('/v1/chat/completions', { method: 'POST',
          headers: Object.assign({ 'Content-Type': 'application/json' }, auth()), body: JSON.stringify(body) });
        if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => null));
        let content = '';
        await readEvents(response, (name, data) => {
          if (data === '[DONE]') return;
          const choice = JSON.parse(data).choices[0];
          if (choice && choice.delta && choice.delta.content) {
            content += choice.delta.content;
            reply.textContent = content;
          }
        });
        messages.push({ role: 'assistant', content });
      } catch (error) {
        messages.pop();
        transcript.lastChild.remove(); transcript.lastChild.remove();
        input.value = text;
        showProblem(problem, error);
      }
      transcript.dataset.done = 'true';
      send.disabled = false;
    } }, t('send'));
    return h('div', {}, h('h1', {}, t('chat')),
      h('div', { className: 'card' }, h('label', {}, t('model'), model), h('p'),
        h('label', {}, t('systemMessage'), system), transcript,
        h('label', {}, t('message'), input),
        h('label', {}, `${t('jsonSchema')} (${t('schemaHint')})`, schema),
        h('div', { className: 'row' }, send)),
      problem, h('details', {}, h('summary', {}, t('template')), template));
  }

  async function attentionView() {
    const model = await modelPicker('at-model');
    const prompt = h('textarea', { id: 'at-prompt', 'aria-label': t('prompt'), placeholder: 'ROMEO:' });
    const layer = h('select', { id: 'at-layer', 'aria-label': t('layer') }),
      head = h('select', { id: 'at-head', 'aria-label': t('head') });
    const heatmap = h('div', { id: 'at-heatmap' }), saliency = h('div', { id: 'at-saliency', className: 'saliency' }),
      problem = h('div');
    let explained = null;
    const drawHeatmap = () => {
      const matrix = explained.attention[+layer.value][+head.value];
      const tokens = explained.tokens.map(x => x.text);
      const grid =
        h('div', { className: 'heatmap', style: `grid-template-columns: auto repeat(${tokens.length}, 22px)` });
      grid.append(h('div', { className: 'label' }, ''),
        ...tokens.map(x => h('div', { className: 'label', title: x }, JSON.stringify(x).slice(1, -1).slice(0, 2))));
      matrix.forEach((row, q) => {
        grid.append(h('div', { className: 'label' }, JSON.stringify(tokens[q]).slice(1, -1)));
        row.forEach((w, k) =>
          grid.append(h('div',
          { className: 'cell', tabIndex: 0, role: 'img',
          'aria-label': `${JSON.stringify(tokens[q])} → ${JSON.stringify(tokens[k])}: ${w.toFixed(3)}`,
          title: `${JSON.stringify(tokens[q])} → ${JSON.stringify(tokens[k])}: ${w.toFixed(3)}`,
          style: `background: rgba(48, 86, 211, ${Math.min(1, w).toFixed(3)})` })));
      });
      heatmap.replaceChildren(grid);
    };
    const explain = h('button', { id: 'at-explain', type: 'button', onclick: async () => {
      problem.replaceChildren();
      try {
        explained = await api('POST', '/api/explain', { model: model.value, prompt: prompt.value });
        layer.replaceChildren(...explained.attention.map((_, i) => h('option', { value: i }, `${t('layer')} ${i}`)));
        head.replaceChildren(...explained.attention[0].map((_, i) => h('option', { value: i }, `${t('head')} ${i}`)));
        drawHeatmap();
        const max = Math.max(...explained.saliency.scores.map(s => Math.abs(s.share)), 1e-9);
        saliency.replaceChildren(h('p', { className: 'muted' }, `${t('saliency')} (${explained.saliency.of})`),
          ...explained.saliency.scores.map(s =>
          h('span', { title: `${(100 * s.share).toFixed(1)}%`,
          style: `background: rgba(232, 89, 12, ${(Math.abs(s.share) / max).toFixed(3)})` }, s.text)),
          h('p', {}, `${t('nextToken')}: ${JSON.stringify(explained.next.text)} ` +
            `(p = ${Math.exp(explained.next.logprob).toFixed(3)})`));
      } catch (error) { showProblem(problem, error); }
    } }, t('explain'));
    layer.addEventListener('change', drawHeatmap);
    head.addEventListener('change', drawHeatmap);
    return h('div', {}, h('h1', {}, t('attention')),
      h('div', { className: 'card' }, h('label', {}, t('model'), model), h('p'), prompt, h('p'),
      h('div', { className: 'row' }, explain, layer, head)),
      problem, heatmap, h('p'), saliency);
  }

  // ---- sweeps -------------------------------------------------------------------------------------------------------
  async function sweepsView() {
    const list = h('div', { id: 'sweeps-table' }, t('loading'));
    try {
      const sweeps = (await get('/api/sweeps?limit=100')).items;
      list.replaceChildren(sweeps.length === 0 ? h('p', { className: 'muted' }, t('none')) : h('table', {},
        h('tr', {}, [t('name'), t('state'), t('strategy'), t('objective'), t('best'), t('created')]
          .map(c => h('th', {}, c))),
        sweeps.map(s => h('tr', {}, h('td', {}, h('a', { href: `#/sweeps/${s.id}` }, s.name)),
          h('td', { className: 'state-' + s.state }, s.state), h('td', {}, s.strategy), h('td', {}, s.objective),
          h('td', {}, fmt(s.bestValue)), h('td', {}, when(s.createdAt))))));
    } catch (error) { showProblem(list, error); }
    return h('div', {}, h('h1', {}, t('sweeps')),
      h('p', { className: 'muted' }, t('sweepsHint')), list);
  }

  /** A sweep live: its runs with the swept parameters, the best so far marked, refreshed until it ends. */
  async function sweepView(id) {
    const title = h('h1', {}, t('loading')), body = h('div', { id: 'sweep-runs' }), problem = h('div');
    const show = s => {
      title.replaceChildren(`${s.name} `, h('span', { id: 'sweep-state', className: 'state-' + s.state }, s.state));
      const params = [...new Set((s.runs || []).flatMap(r => Object.keys(r.parameters || {})))];
      const bestId = s.best && s.best.runId;
      body.replaceChildren(
        h('p', {}, `${t('objective')}: ${s.objective}`, s.best ? h('span', { id: 'sweep-best' },
          ` · ${t('best')}: ${fmt(s.best.value)} (${s.best.model}${s.best.modelVersion ? ' v' + s.best.modelVersion
            : ''})`) : null),
        h('table', {},
          h('tr', {}, [t('run'), t('state'), ...params, t('step'), t('bestValLoss')].map(c => h('th', {}, c))),
          (s.runs || []).map(r => h('tr', { className: r.id === bestId ? 'best' : '' },
            h('td', {}, h('a', { href: `#/runs/${r.id}` }, r.id.slice(0, 8))),
            h('td', { className: 'state-' + r.state }, r.state),
            params.map(p => h('td', {}, JSON.stringify(r.parameters[p]))),
            h('td', {}, `${fmt(r.step)} / ${fmt(r.maxSteps)}`), h('td', {}, fmt(r.bestValidationLoss))))),
        mayEdit() && !['Completed', 'Failed', 'Cancelled'].includes(s.state)
          ? h('p', {}, h('button', { id: 'sweep-cancel', className: 'danger', type: 'button', onclick: async () => {
            try { show(await api('POST', `/api/sweeps/${id}/cancel`, {})); } catch (e) { showProblem(problem, e); }
          } }, t('cancel'))) : null);
      return ['Completed', 'Failed', 'Cancelled'].includes(s.state);
    };
    follow(async () => show(await get(`/api/sweeps/${id}`)), 2000, problem);
    return h('div', {}, title, problem, body);
  }

  // ---- evaluations --------------------------------------------------------------------------------------------------
  async function evaluationsView() {
    const model = await modelPicker('ev-model');
    const datasets = await allPages('/api/datasets').catch(() => []);
    const dataset = datasetPicker('ev-dataset', datasets);
    const problem = h('div', { id: 'ev-problem' });
    const list = h('div', { id: 'evaluations-table' }, t('loading'));
    const request = h('button', { id: 'ev-request', type: 'button', onclick: async () => {
      try {
        const e = await api('POST', '/api/evaluations', { model: model.value, datasetId: dataset.value });
        location.hash = `#/evaluations/${e.id}`;
      } catch (error) { showProblem(problem, error); }
    } }, t('evaluate'));
    try {
      const items = (await get('/api/evaluations?limit=100')).items;
      const names = new Map(datasets.map(d => [d.id, d.name]));
      list.replaceChildren(items.length === 0 ? h('p', { className: 'muted' }, t('none')) : h('table', {},
        h('tr', {}, [t('model'), t('dataset'), t('state'), t('loss'), t('top1'), t('macroRecall'), t('created')]
          .map(c => h('th', {}, c))),
        items.map(e => h('tr', {},
          h('td', {}, h('a', { href: `#/evaluations/${e.id}` }, `${e.modelName} v${e.modelVersion ?? '?'}`)),
          h('td', {}, names.get(e.datasetId) || (e.datasetId ? e.datasetId.slice(0, 8) : '—')),
          h('td', { className: 'state-' + e.state }, e.state),
          h('td', {}, fmt(e.figures && e.figures.loss)), h('td', {}, fmt(e.figures && e.figures.top1Accuracy, 3)),
          h('td', {}, fmt(e.figures && e.figures.macroRecall, 3)), h('td', {}, when(e.createdAt))))));
    } catch (error) { showProblem(list, error); }
    return h('div', {}, h('h1', {}, t('evaluations')),
      mayEdit() ? h('div', { className: 'card row' }, h('label', {}, t('model'), model),
        h('label', {}, t('dataset'), dataset), request) : null, problem, list);
  }

  /** One evaluation, followed until it has its figures. */
  async function evaluationView(id) {
    const title = h('h1', {}, t('loading')), figures = h('div', { id: 'ev-figures' }), problem = h('div');
    follow(async () => {
      const e = await get(`/api/evaluations/${id}`);
      title.replaceChildren(`${e.modelName} v${e.modelVersion ?? '?'} `,
        h('span', { id: 'ev-state', className: 'state-' + e.state }, e.state));
      if (e.state === 'Failed') figures.replaceChildren(h('p', { className: 'problem' }, e.failureReason));
      if (e.state === 'Completed')
        figures.replaceChildren(h('table', {}, h('tr', {}, h('th', {}, t('figure')), h('th', {}, t('value'))),
          Object.entries(e.figures || {}).filter(([, v]) => typeof v !== 'object')
            .map(([k, v]) => h('tr', {}, h('td', {}, k), h('td', {}, fmt(v))))));
      return e.state === 'Failed' || e.state === 'Completed';
    }, 1000, problem);
    return h('div', {}, title, problem, figures);
  }

  // ---- keys and the audit log (admins) ------------------------------------------------------------------------------
  async function keysView() {
    const list = h('div', { id: 'keys-table' }, t('loading')), problem = h('div', { id: 'key-problem' });
    const secret = h('div', { id: 'key-secret' });
    const name = h('input', { id: 'key-name', placeholder: 'ci-bot', 'aria-label': t('name') });
    const role = h('select', { id: 'key-role', 'aria-label': t('role') },
      ['viewer', 'editor', 'admin'].map(r => h('option', { value: r }, r)));
    async function refresh() {
      try {
        const keys = (await get('/api/keys?limit=200&includeRevoked=true')).items;
        list.replaceChildren(h('table', {},
          h('tr', {}, [t('name'), t('role'), t('prefix'), t('createdBy'), t('lastUsed'), t('revoked'), '']
            .map(c => h('th', {}, c))),
          keys.map(k => h('tr', { dataset: { id: k.id } }, h('td', {}, k.name), h('td', {}, k.role),
            h('td', {}, h('code', {}, k.prefix)), h('td', {}, k.createdBy || '—'), h('td', {}, when(k.lastUsedAt)),
            h('td', {}, when(k.revokedAt)),
            h('td', {}, k.revokedAt || k.bootstrap ? null : h('button', { className: 'danger revoke', type: 'button',
              onclick: async () => {
                try { await api('DELETE', `/api/keys/${k.id}`); refresh(); } catch (e) { showProblem(problem, e); }
              } }, t('revoke')))))));
      } catch (error) { showProblem(list, error); }
    }
    const create = h('button', { id: 'key-create', type: 'button', onclick: async () => {
      try {
        const created = await api('POST', '/api/keys', { name: name.value.trim(), role: role.value });
        // The secret exists only in this answer: the platform keeps its hash.
        secret.replaceChildren(h('div', { className: 'card secret', role: 'status' }, h('strong', {}, t('keyOnce')),
          h('pre', { id: 'key-value' }, created.key)));
        problem.replaceChildren();
        refresh();
      } catch (error) { showProblem(problem, error); }
    } }, t('createKey'));
    refresh();
    return h('div', {}, h('h1', {}, t('apiKeys')),
      h('div', { className: 'card row' }, h('label', {}, t('name'), name), h('label', {}, t('role'), role), create),
      problem, secret, list);
  }

  async function auditView() {
    const list = h('div', { id: 'audit-table' }, t('loading'));
    try {
      const entries = (await get('/api/audit?limit=200')).items;
      list.replaceChildren(h('table', {},
        h('tr', {}, [t('when'), t('key'), t('role'), t('request'), t('status'), 'ms', t('detail')]
          .map(c => h('th', {}, c))),
        entries.map(a => h('tr', {}, h('td', {}, when(a.at)), h('td', {}, a.keyName), h('td', {}, a.role),
          h('td', {}, h('code', {}, `${a.method} ${a.path}`)), h('td', {}, String(a.status)),
          h('td', {}, fmt(a.durationMilliseconds)), h('td', {}, a.detail || '—')))));
    } catch (error) { showProblem(list, error); }
    return h('div', {}, h('h1', {}, t('audit')), h('p', { className: 'muted' }, t('auditHint')), list);
  }

  // ---- router -------------------------------------------------------------------------------------------------------
  let rendering = 0;
  async function render() {
    // A later navigation wins: a slower view that was asked for earlier is dropped when it arrives.
    const ticket = ++rendering;
    if (state.stop) { state.stop.abort(); state.stop = null; }
    if (state.key && !state.me) {
      try { state.me = await get('/api/keys/me'); } catch { sessionStorage.removeItem(KEY); state.key = null; }
    }
    frame();
    if (!state.me) { view().replaceChildren(loginView()); return; }
    const [path, search] = location.hash.replace(/^#/, '').split('?');
    const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
    const query = new URLSearchParams(search || '');
    let content;
    switch (parts[0]) {
      case 'datasets': content = await datasetsView(); break;
      case 'runs': content = parts[1] ? await runView(parts[1]) : await runsView(query); break;
      case 'compare': content = await compareView(query); break;
      case 'models': content = parts[1] ? await modelView(parts[1]) : await modelsView(); break;
      case 'playground': content = await playgroundView(); break;
      case 'chat': content = await chatView(); break;
      case 'attention': content = await attentionView(); break;
      case 'sweeps': content = parts[1] ? await sweepView(parts[1]) : await sweepsView(); break;
      case 'evaluations': content = parts[1] ? await evaluationView(parts[1]) : await evaluationsView(); break;
      case 'keys': content = await keysView(); break;
      case 'audit': content = await auditView(); break;
      default: location.hash = '#/runs'; return;
    }
    if (ticket !== rendering) return;
    view().replaceChildren(content);
    frame();
  }

  document.getElementById('sign-out').addEventListener('click', signOut);
  document.getElementById('language')
    .addEventListener('click',
    () => { state.lang = state.lang === 'en' ? 'zh' : 'en'; localStorage.setItem(LANG, state.lang); render(); });
  window.addEventListener('hashchange', render);
  render();
})();

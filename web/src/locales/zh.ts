// SPDX-License-Identifier: AGPL-3.0-or-later
export default {
  app: { name: 'Liaison', skip: '跳到正文', language: '语言', timezone: '时区', loading: '正在加载…', empty: '没有可显示的内容。', retry: '重试', print: '打印 / PDF', signedInAs: '已登录：{user}（{org}，{role}）' },
  nav: { dashboard: '仪表板', incidents: '事件单', events: '安全事件', directory: '通讯录', portal: '移交给我们的', logout: '退出登录' },
  login: { title: '登录 Liaison', user: '用户名', password: '密码', submit: '登录', failed: '登录失败：{msg}', expired: '会话已结束，请重新登录。' },
  dash: {
    title: '仪表板', total: '库中事件数', countries: '国家和地区', overTime: '按分类的事件趋势', map: '各国家和地区的事件数', topCountries: '事件最多的国家和地区', topAsn: '事件最多的自治系统', topFeeds: '事件最多的数据源', topPartners: '接收最多的接收方', byClass: '按分类的事件', handoffs: '跨境移交（按状态）', breaches: '超出服务时限', exposure: '物联网与工控系统暴露面', byProtocol: '按协议', byProduct: '按产品', feeds: '数据源健康状况', days: '天数', openEvents: '查看 {cc} 的事件', breachCount: '{n} 个移交已超过时限', noBreach: '没有超过时限的移交。',
  },
  chart: { png: 'PNG', svg: 'SVG', csv: 'CSV', exportOf: '将“{title}”导出为 {kind}', count: '数量', key: '键', day: '日期' },
  inc: {
    title: '事件单', id: '编号', subject: '标题', severity: '严重程度', status: '状态', countries: '国家和地区', sectors: '行业', owner: '负责人', updated: '更新时间', created: '创建时间', tlp: 'TLP', classification: '分类', description: '描述', recipient: '接收方', filter: '筛选', any: '全部', apply: '应用', more: '加载更多', saveView: '保存视图', viewName: '视图名称', views: '已保存的视图', deleteView: '删除视图 {name}', select: '选择事件单 {id}', selectAll: '全选当前显示', bulk: '对选中的 {n} 项', bulkStatus: '设置状态', bulkDone: '{ok} 项已更改，{failed} 项被拒绝', sortBy: '按{col}排序', new: '新建事件单', create: '创建', waiting: '等待我方处理',
    handoffs: '移交', state: '状态', notified: '已通知', acknowledged: '已确认', resolved: '已解决', rejected: '已拒绝', reason: '原因', by: '处理人', channel: '渠道', sla: '服务时限', due: '截止', breached: '已超时', paused: '已暂停', used: '已用 {used}，共 {target}',
    timeline: '时间线', comments: '评论', comment: '添加评论', visibility: '可见范围', internal: '内部（仅我方团队）', shared: '与所有接收方共享', sharedWith: '与 {r} 共享', send: '添加评论', links: '关联的事件和指标', attachments: '附件', attach: '添加附件', changeStatus: '更改状态', noTransition: '状态“{status}”不能再更改。', merge: '合并到事件单', mergeDo: '合并', split: '拆分出所选事件', splitTitle: '新事件单的标题', splitDo: '拆分', export: '导出', ack: '确认', resolve: '报告已解决', reject: '拒绝', rejectReason: '拒绝的原因？', done: '已保存。', back: '返回事件单列表', notFound: '没有该事件单，或您无权查看。',
  },
  ev: { title: '安全事件', since: '起始', until: '截止', cc: '国家或地区', asn: '自治系统号', ip: 'IP 或 CIDR', class: '分类', feed: '数据源', report: '报告', search: '搜索', exportCsv: '导出 CSV', exportJson: '导出 JSON', detail: '事件 {id}', fields: '字段', routing: '路由决定', verdict: '结果', rule: '规则', incidents: '关联的事件单', trace: '来自报告 {report} 第 {line} 行', time: '时间', source: '来源', shown: '显示 {n} 条' },
  dir: { title: '通讯录', partners: '合作 CERT', owners: '网络所有者', name: '名称', contacts: '联系人', languages: '语言', tlpMax: '最高 TLP', agreement: '协议', networks: '网络', yes: '是', no: '否' },
  portal: { title: '移交给 {org} 的内容', intro: '移交给贵组织的事件单和安全事件。可确认、评论、报告解决或说明理由后拒绝，并下载数据。', download: '下载', stix: 'STIX（来自 TAXII 服务器）' },
  status: { new: '新建', triaged: '已分诊', notified: '已通知', acknowledged: '已确认', mitigating: '处置中', resolved: '已解决', closed: '已关闭', rejected: '已拒绝', duplicate: '重复', merged: '已合并', pending: '待发送', withdrawn: '已撤回' },
  sev: { low: '低', medium: '中', high: '高', critical: '严重' },
  err: { load: '加载失败：{msg}', forbidden: '您无权查看。', network: '服务器没有响应。' },
}

package org.comet4j.core;

import java.util.ListResourceBundle;

/** The texts of comet4j in Chinese ({@link Messages}; Comet4J's language-cn.xml). */
public class Messages_zh extends ListResourceBundle {

    static final Object[][] CONTENTS = {
        {"ConnectSuccess", "连接成功"},
        {"ConnectFailure", "连接失败"},
        {"InitComplete", "初始化完毕"},
        {"DoubleAppModuleKey", "重复的应用模块标识。"},
        {"Listening", "监听 %s"},
        {"OnePort", "单端口：页面通过应用自身的地址连接"},
        {"NoListener", "无监听端口（Comet.Port=-1；页面连接到 %s）"},
        {"Threads", "%d 个线程"},
        {"Hub", "集群 %s（前缀 %s，%s）"},
        {"HubRunsActions", "处理请求"},
        {"HubQueuesActions", "请求排队"},
        {"Started", "comet4j：已启动，本地端口 %d"},
        {"StartedOnePort", "comet4j：已启动，单端口（页面通过 %s 自身的地址连接）"},
        {"StartFailed", "comet4j：启动失败：%s"},
        {"Stopped", "comet4j：已停止"},
        {"ConnectRefused", "连接被拒绝"},
        {"EngineNotRunning", "推送引擎未运行"},
        {"MissingCmd", "缺少 cmd 参数"},
        {"UnknownCmd", "未知的 cmd：%s"},
        {"DropVetoed", "comet4j：BeforeDropListener 保留了连接 %s（页面请求断开）"},
        {"DroppedByPage", "页面断开"},
        {"RemoveVetoed", "comet4j：BeforeRemoveListener 保留连接 %s；每 %d 毫秒再次检查"},
        {"NotANumber", "不是数字：'%s'"},
        {"Between", "必须在 %d 到 %d 之间：'%s'"},
        {"TrueFalse", "必须是 true 或 false：'%s'"},
        {"OneOf", "必须是 %s 之一：'%s'"},
        {"GreaterThan", "必须大于 %s（%d）：'%s'"},
        {"UnknownParam", "comet4j：忽略未知参数 '%s'"},
        {"EngineClass", "comet4j：%s：不支持 %s，使用默认引擎"},
        {"DebugValue", "comet4j：%s：'%s' 不是 true，不开启调试"},
    };

    @Override
    protected Object[][] getContents() {
        return CONTENTS;
    }
}

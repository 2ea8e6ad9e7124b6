//! JNI bridge (under construction).
